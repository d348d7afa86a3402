/**
 * Raw JSON shapes exactly as Twitch sends them (snake_case). Nothing outside
 * `twitch/` should touch these: the clients convert them into the camelCase
 * domain types in one place.
 */

/** Body of `POST /oauth2/token` for every grant. `scope` may be absent (device flow without scopes). */
export interface WireTokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  scope?: string[] | null;
  token_type: string;
}

/** Body of `POST /oauth2/device`. */
export interface WireDeviceCodeResponse {
  device_code: string;
  expires_in: number;
  interval: number;
  user_code: string;
  verification_uri: string;
}

/** Body of `GET /oauth2/validate`. App tokens carry no `login`/`user_id`. */
export interface WireValidateResponse {
  client_id: string;
  login?: string;
  scopes: string[] | null;
  user_id?: string;
  expires_in: number;
}

/** Error body of every identity and Helix endpoint. */
export interface WireErrorResponse {
  status: number;
  message: string;
  error?: string;
}
