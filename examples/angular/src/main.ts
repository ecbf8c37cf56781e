import '@live-device-form/element'; // registers <live-device-form>; its types type $event below
import { provideZonelessChangeDetection } from '@angular/core';
import { bootstrapApplication } from '@angular/platform-browser';
import { App } from './app';

bootstrapApplication(App, { providers: [provideZonelessChangeDetection()] }).catch((err: unknown) =>
  console.error(err),
);
