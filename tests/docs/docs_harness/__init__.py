"""The harness that runs every docs snippet against the "docs world" (issue 13).

The docs world is what a snippet may talk to (the list is in the docs conventions): real
servers on loopback, reached by public-looking names.

========================  ====================================================  ==========
name and port             served by (one child process, :mod:`.serve`)          module
========================  ====================================================  ==========
``httpbin.org:80``        hypercorn, HTTP/1.1 (and h2 prior knowledge)          :mod:`.httpbin`
``httpbin.org:443``       hypercorn, TLS, ALPN h2 and http/1.1                  :mod:`.httpbin`
``mtls.example:443``      hypercorn, TLS requiring a client certificate         :mod:`.httpbin`
``echo.websocket.org:80`` websockets, echo on any path, permessage-deflate      :mod:`.serve`
``echo.websocket.org:443`` the same over TLS                                     :mod:`.serve`
``proxy.example:3128``    forward proxy (CONNECT, absolute-form, Basic auth)    :mod:`.proxy`
========================  ====================================================  ==========

How a snippet's process reaches them: the harness puts ``site/`` on its PYTHONPATH, whose
``sitecustomize`` patches ``socket.getaddrinfo`` to map those names and ports to the
servers' loopback ports (read from ``REQIVO_DOCS_WORLD``) and to refuse every other name;
``SSL_CERT_FILE`` (and ``REQUESTS_CA_BUNDLE``) name the world's CA, whose one server
certificate names every host. The working directory holds ``ca.pem``, ``client.crt`` and
``client.key`` (accepted by ``mtls.example``), ``data.bin`` (1 MiB) and ``report.csv``.

Modules: :mod:`.world` (start it, a snippet's environment and working directory),
:mod:`.collect` (find the snippets), :mod:`.run` (run them, a few at a time).
"""
