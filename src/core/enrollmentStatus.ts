/**
 * The enrollment statuses and operator actions. The state machine itself — which action is
 * allowed from which status, and every other change — lives in `./transitions.ts`; this module
 * names the part most callers need, so they do not have to know where the table is kept.
 */
export {
  ENROLLMENT_STATUSES,
  LIVE_STATUSES,
  OPERATOR_ACTIONS,
  TERMINAL_STATUSES,
  isLive,
  operatorTransition,
  type EnrollmentStatus,
  type OperatorAction,
  type Transition,
} from './transitions.ts';
