import './zodConfig.ts';
import '@mantine/core/styles.css';
import '@xyflow/react/dist/style.css';
import { MantineProvider, createTheme } from '@mantine/core';
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
const theme = createTheme({ primaryColor: 'indigo', defaultRadius: 'md' });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme}>
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
