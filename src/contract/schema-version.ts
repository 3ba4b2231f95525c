/**
 * Version of the documents `skiff schema` describes (results and events). It changes when a field
 * is removed or changes meaning; fields may be added within a version. Its own file, so the stores
 * that write events need not load the zod schemas.
 */
export const schemaVersion = 1;

/** A type with every array and property read-only, so readonly domain data fits a schema's input type. */
export type DeepReadonly<T> = T extends readonly (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
