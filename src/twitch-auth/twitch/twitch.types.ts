/** camelCase domain shapes produced by the Twitch clients. */

/** What `POST /oauth2/token` granted. */
export interface TokenGrant {
  accessToken: string;
  /** Absent for app tokens (client credentials). */
  refreshToken: string | null;
  /** Seconds until expiry as Twitch said it; 0 means the token does not expire. */
  expiresIn: number;
  scopes: string[];
}

/** What `GET /oauth2/validate` says about a token. */
export interface TokenValidation {
  clientId: string;
  /** Absent for app tokens. */
  userId: string | null;
  login: string | null;
  scopes: string[];
  /** Seconds left; 0 means the token does not expire. */
  expiresIn: number;
}

/** What `POST /oauth2/device` returned: show `userCode` and `verificationUri` to the user. */
export interface DeviceCode {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  /** Seconds between polls that Twitch asked for. */
  interval: number;
  /** Seconds until the device code expires. */
  expiresIn: number;
  /** The scopes that were asked for; needed again when polling. */
  scopes: string[];
}
