// api: the console's only way to heraldd: the /v1 API, with the operator's
// bearer token. The token is asked for once and kept in sessionStorage, so it
// lasts while the tab is open and is gone when it closes.

const TOKEN_KEY = "herald.token";

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// Sends METHOD PATH (BODY: an object, or JSON text already made, as a payload
// with exact numbers needs); returns { data, text } or throws ApiError, with
// heraldd's error as it said it.
export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  const saved = token();
  if (saved) headers.Authorization = `Bearer ${saved}`;
  const init = { method, headers, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, "unreachable", `heraldd could not be reached (${error.message})`, null);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error;
    if (error) throw new ApiError(response.status, error.code, error.message, error.field);
    throw new ApiError(response.status, `http_${response.status}`, text.trim() || response.statusText, null);
  }
  return { data, text };
}

export async function get(path) {
  return (await call("GET", path)).data;
}

export async function post(path, body) {
  return (await call("POST", path, body)).data;
}

// "?a=1&b=2" from an object, leaving out empty values.
export function query(parameters) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters))
    if (value !== null && value !== undefined && value !== "") search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}
