/** Every error the REST API returns: `{ error: CODE, message }` with one status per code. */
export const API_ERRORS = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ALREADY_ACKNOWLEDGED: 409,
  ALREADY_RESOLVED: 409,
  NOT_ACKNOWLEDGED: 409,
  TOO_MANY_ATTEMPTS: 429,
  INTERNAL: 500,
} as const

export type ApiErrorCode = keyof typeof API_ERRORS

export class ApiError extends Error {
  readonly statusCode: number
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message)
    this.statusCode = API_ERRORS[code]
  }
}

export const notFound = (what: string, id: string) => new ApiError('NOT_FOUND', `${what} ${id} does not exist`)
