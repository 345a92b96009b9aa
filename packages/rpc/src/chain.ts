/**
 * Runs interceptors in the order added around a final step: each gets the context and `next`,
 * which runs the rest of the chain. The client's and the server's interceptors both run here.
 */
export function runChain<C>(
  interceptors: readonly ((context: C, next: () => Promise<unknown>) => unknown)[],
  context: C,
  last: () => unknown,
): Promise<unknown> {
  const dispatch = (index: number): Promise<unknown> => {
    if (index === interceptors.length) return Promise.resolve(last());
    try {
      return Promise.resolve(interceptors[index]!(context, () => dispatch(index + 1)));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return dispatch(0);
}
