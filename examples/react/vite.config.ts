import { defineConfig } from 'vite';

// No React plugin needed for this app: Vite's esbuild compiles TSX with the `jsx: react-jsx`
// setting of tsconfig.json. Add @vitejs/plugin-react for Fast Refresh in development.
export default defineConfig({});
