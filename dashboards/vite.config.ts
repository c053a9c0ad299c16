/**
 * The dashboards: the operator console (/), the family view (/family.html) and the visitor's
 * page (/visitor.html), built with
 * `npx vite build dashboards` (from the repository root) into dashboards/dist/.
 * Everything is bundled: no CDN, the platform serves the files itself.
 */
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))
const backend = process.env.ANJU_BACKEND ?? 'http://127.0.0.1:8080'

export default defineConfig({
  root,
  base: '/',
  plugins: [vue()],
  define: {
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'false',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: { console: `${root}index.html`, family: `${root}family.html`, visitor: `${root}visitor.html` },
    },
  },
  // `npx vite dashboards` for development against a running platform.
  server: {
    proxy: {
      '/api': backend,
      '/socket.io': { target: backend, ws: true },
    },
  },
})
