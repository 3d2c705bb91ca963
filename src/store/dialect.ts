/** The two stores Lockstep runs on (its own module so the migrations need not import the store). */
export type StoreDialect = 'sqlite' | 'postgres';
