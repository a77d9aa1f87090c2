#!/usr/bin/env python3
"""Smart-HTTP git for gitvisor's fetch tests: `git http-backend` behind HTTP Basic authentication.

Usage: git_http_server.py ROOT USER:PASSWORD PORT_FILE

Serves the repositories under ROOT on a free port of 127.0.0.1 and writes the port's number to PORT_FILE
(written whole, by rename) once it accepts connections. A request without `Authorization: Basic
base64(USER:PASSWORD)` gets 401 with a Basic challenge, as a git host answers a fetch that needs a token.
Requests go to stderr, one line each, with the user that was accepted or refused.
"""

import base64
import http.server
import os
import subprocess
import sys


class GitHandler(http.server.BaseHTTPRequestHandler):
    # Keep-alive as real hosts do: libgit2 sends the request again on the same connection after a 401.
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.serve()

    def do_POST(self):
        self.serve()

    def serve(self):
        body = self.read_body()
        user = self.authenticated_user()
        if user is None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="gitvisor-test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.run_backend(user, body)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size + 2)  # the chunk and its CRLF
                if size == 0:
                    return body
                body += chunk[:-2]
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    # The user whose password matched, or None (and the reason logged).
    def authenticated_user(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            self.log_message("no credentials")
            return None
        try:
            given = base64.b64decode(header[len("Basic "):], validate=True).decode()
        except ValueError:
            given = ""
        user = given.partition(":")[0]
        if given != CREDENTIALS:
            self.log_message("refused user %r", user)
            return None
        return user

    # Runs `git http-backend` as a CGI program (RFC 3875) and relays its answer.
    def run_backend(self, user, body):
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": ROOT,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": self.request_version,
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": user,
            "REMOTE_ADDR": self.client_address[0],
        }
        for header in ("Content-Encoding", "Git-Protocol"):
            if self.headers.get(header):
                env["HTTP_" + header.upper().replace("-", "_")] = self.headers[header]
        result = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        if result.returncode != 0:
            self.log_message("git http-backend exited with %d: %s", result.returncode,
                             result.stderr.decode(errors="replace").strip())
        head, payload = split_cgi_output(result.stdout)
        status = 200
        headers = []
        for line in head.decode().splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.log_message("user %r: %d", user, status)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


# CGI output is header lines, a blank line, then the body; git ends its lines with CRLF, RFC 3875 allows LF.
def split_cgi_output(output):
    ends = [(at, len(separator)) for separator in (b"\r\n\r\n", b"\n\n")
            for at in [output.find(separator)] if at >= 0]
    if not ends:
        return output, b""
    at, length = min(ends)
    return output[:at], output[at + length:]


def main():
    global ROOT, CREDENTIALS
    if len(sys.argv) != 4:
        sys.exit("usage: git_http_server.py ROOT USER:PASSWORD PORT_FILE")
    ROOT, CREDENTIALS, port_file = sys.argv[1:]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GitHandler)
    with open(port_file + ".tmp", "w") as out:
        out.write("%d\n" % server.server_address[1])
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
