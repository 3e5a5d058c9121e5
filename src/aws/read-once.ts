import type { Aws } from "./create-aws.js";

/**
 * The same clients with the region-wide listings read once (clusters and their descriptions, load
 * balancers, target groups and their tags): for one read-only pass over many apps, such as gc's
 * listing, where each app's orphan sweep would otherwise list and describe every cluster of the
 * region again. Never for a pass that changes things: what it returns is as old as the first read.
 */
export function readingOnce(aws: Aws): Aws {
  return {
    ...aws,
    eks: once(aws.eks, ["listClusters", "describeCluster"]),
    elbv2: once(aws.elbv2, ["listLoadBalancers", "listTargetGroups", "describeTags"]),
  };
}

type AsyncMethod = (...args: unknown[]) => Promise<unknown>;

/**
 * `client` with `methods` answered once per first argument (a name, a list of ARNs; the others
 * only say what the call is for); a failed read is not kept.
 */
function once<T extends object>(client: T, methods: (keyof T & string)[]): T {
  const answers = new Map<string, Promise<unknown>>();
  const wrapped = Object.create(client) as Record<string, AsyncMethod>;
  for (const name of methods) {
    const method = (client as Record<string, AsyncMethod>)[name]!;
    wrapped[name] = (...args: unknown[]) => {
      const key = `${name} ${JSON.stringify(args[0] ?? null)}`;
      let answer = answers.get(key);
      if (!answer) {
        answer = method.apply(client, args).catch((err: unknown) => {
          answers.delete(key);
          throw err;
        });
        answers.set(key, answer);
      }
      return answer;
    };
  }
  return wrapped as T;
}
