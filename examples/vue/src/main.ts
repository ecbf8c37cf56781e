import '@live-device-form/element'; // registers <live-device-form>
import { createApp } from 'vue';
import App from './App.vue';

createApp(App).mount('#app');
