package dev.ferry.controller;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code /metrics} (Prometheus), {@code /healthz} (process alive; the body says leader or standby),
 * {@code /readyz} (caches synced, on the leader and on a standby alike).
 */
final class OpsServer implements AutoCloseable {

  private final HttpServer server;

  OpsServer(
      String host,
      int port,
      PrometheusMeterRegistry registry,
      BooleanSupplier ready,
      Supplier<String> role)
      throws IOException {
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 16);
    } catch (java.net.BindException e) {
      throw new IllegalArgumentException(
          "cannot serve metrics on "
              + host
              + ":"
              + port
              + " ("
              + e.getMessage()
              + "); choose another with --metrics-port or --metrics-address");
    }
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/metrics", ex -> reply(ex, 200, "text/plain; version=0.0.4", registry.scrape()));
    server.createContext("/healthz", ex -> reply(ex, 200, "text/plain", "ok " + role.get() + "\n"));
    server.createContext(
        "/readyz",
        ex ->
            reply(
                ex,
                ready.getAsBoolean() ? 200 : 503,
                "text/plain",
                ready.getAsBoolean() ? "ok\n" : "not ready\n"));
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  private static void reply(HttpExchange ex, int code, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
