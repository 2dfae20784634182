import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The API serves web/dist at `/`; during `npx vite web` development, calls go to a running
// `npm start` on port 3000.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: { '/api': 'http://127.0.0.1:3000', '/metrics': 'http://127.0.0.1:3000' },
  },
});
