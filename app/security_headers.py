"""The security baseline every response carries, static files and error pages included."""

from __future__ import annotations

from flask import Flask, Response, request

# No inline script or style and no third-party origin. 'wasm-unsafe-eval' lets libsodium
# instantiate its WebAssembly module; it does not allow eval() of JavaScript.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope",
        "magnetometer", "microphone", "midi", "payment", "usb", "xr-spatial-tracking",
    )
)

BASELINE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def strict_transport_security(include_subdomains: bool) -> str:
    """Two years; every subdomain too only when the operator asks (CANDOR_HSTS_INCLUDE_SUBDOMAINS):
    it would also force HTTPS on unrelated hosts of the same domain."""
    return "max-age=63072000" + ("; includeSubDomains" if include_subdomains else "")


def init_app(app: Flask, https: bool, hsts_include_subdomains: bool = False) -> None:
    hsts = strict_transport_security(hsts_include_subdomains)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in BASELINE_HEADERS.items():
            response.headers[name] = value
        if https:
            response.headers["Strict-Transport-Security"] = hsts
        if request.endpoint != "static":
            # Nothing dynamic may linger in a shared or personal browser cache.
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response
