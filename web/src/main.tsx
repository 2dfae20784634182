import './zodConfig.ts';
import '@mantine/core/styles.css';
import '@xyflow/react/dist/style.css';
import { MantineProvider, Modal, createTheme, type CSSVariablesResolver } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { ApiError } from './api/client.ts';
import { AuthProvider } from './auth.tsx';
import { RouterProvider } from './router.tsx';

// A 4xx answer will not change on a second ask (a bad id, a missing lead, a refused role): show
// it at once. Network failures and 5xx are retried twice.
const retry = (failures: number, error: unknown) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && failures < 2;
const queryClient = new QueryClient({
  defaultOptions: { queries: { staleTime: 5_000, refetchOnWindowFocus: true, retry } },
});
// Contrast (WCAG AA, 4.5:1 for text; axe-core checks every page in the browser suite). Mantine's
// defaults put white on mid shades (indigo 6 is 4.0:1, yellow and orange far less) and coloured
// text on pale tints below that, so each colour the dashboard uses gets a filled shade white text
// reads on and a darker text shade for its light variants, links and the active navigation.
const FILLED: Record<string, string> = {
  indigo: '#364fc7', blue: '#1864ab', green: '#2b7a3b', teal: '#087059', cyan: '#0b6e80', yellow: '#8a5a00', orange: '#b23c0a',
  red: '#c92a2a', pink: '#a61e4d', grape: '#862e9c', violet: '#5f3dc4', lime: '#4f7a0b', gray: '#495057', dark: '#25262b',
};
const TEXT: Record<string, string> = {
  indigo: '#2f44ad', blue: '#14528c', green: '#1f5f2c', teal: '#065946', cyan: '#09586a', yellow: '#6b4600', orange: '#8c2f07',
  red: '#a51f1f', pink: '#8a1740', grape: '#6c2580', violet: '#4c2fa3', lime: '#3e6008', gray: '#3d4349', dark: '#1a1b1e',
};
const readableColors: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    // Dimmed text (gray 6 on white, 3.3:1) becomes gray 7: still quieter than the text around it.
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-anchor': TEXT.indigo!,
    '--mantine-color-error': TEXT.red!,
    '--mantine-primary-color-filled': FILLED.indigo!,
    '--mantine-primary-color-filled-hover': TEXT.indigo!,
    '--mantine-primary-color-light-color': TEXT.indigo!,
    ...Object.fromEntries(
      Object.keys(FILLED).flatMap((c) => [
        [`--mantine-color-${c}-filled`, FILLED[c]!],
        [`--mantine-color-${c}-filled-hover`, TEXT[c]!],
        [`--mantine-color-${c}-light-color`, TEXT[c]!],
        [`--mantine-color-${c}-outline`, TEXT[c]!],
        [`--mantine-color-${c}-text`, TEXT[c]!],
      ]),
    ),
  },
  dark: {},
});
const theme = createTheme({
  primaryColor: 'indigo',
  defaultRadius: 'md',
  components: {
    // Every dialog's × says what it does to a screen reader.
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={readableColors}>
      <QueryClientProvider client={queryClient}>
        <RouterProvider>
          <AuthProvider>
            <App />
          </AuthProvider>
        </RouterProvider>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
