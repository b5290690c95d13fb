import type { RegisteredFunction } from './functionsCore';

/** A registered function's trigger binding (name and binding), as the host finds it. */
export function triggerOf(registered: RegisteredFunction) {
  return Object.entries(registered.metadata.bindings).find(
    ([, binding]) => binding.direction === 'in' && /Trigger$/i.test(binding.type ?? ''),
  );
}
