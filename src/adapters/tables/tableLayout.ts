/**
 * The one table holding flow records and sessions. They share a table (and a partition per
 * flow) so that the callback consumes the flow and creates the session in one entity-group
 * transaction: a consumed flow without its session, or the reverse, cannot exist.
 */
export const AUTH_TABLE_NAME = 'AuthState';
