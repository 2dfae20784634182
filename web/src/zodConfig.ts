/**
 * The dashboard runs the core's rules (src/core), which are zod schemas. zod compiles object
 * parsers with `new Function` unless told not to, and merely probing for it is reported as a
 * violation by the dashboard's Content-Security-Policy (no 'unsafe-eval'). Imported first by
 * main.tsx, so this runs before any core module builds its schemas.
 */
import { z } from 'zod';

z.config({ jitless: true });
