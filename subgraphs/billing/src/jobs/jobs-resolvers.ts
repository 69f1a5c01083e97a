import type { Resolvers } from '../__generated__/resolvers-types';

/** Thin: runJob hands the caller and the job's name to the jobs. */
export const jobMutations: Resolvers['Mutation'] = {
  runJob: (_root, { name }, { jobs }) => jobs.run(name),
};
