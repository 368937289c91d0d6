package dev.ferry.provider.local;

import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.Protocol;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes every backend of one load balancer at the plan's interval: an HTTP GET that must answer
 * 200 (a Local-policy healthCheckNodePort), or a TCP connect to each TCP listener's NodePort. A
 * load balancer with only UDP listeners and a traffic-port check has nothing to probe; its backends
 * stay healthy (use externalTrafficPolicy Local for checked UDP).
 */
final class HealthChecker implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

  private final String name;
  private final BackendPool pool;
  private final Supplier<List<Listener>> listeners;
  private final ScheduledExecutorService timer;
  private final ExecutorService probes = Executors.newVirtualThreadPerTaskExecutor();
  private ScheduledFuture<?> schedule;
  private volatile HealthCheck check;

  HealthChecker(
      String name,
      BackendPool pool,
      Supplier<List<Listener>> listeners,
      ScheduledExecutorService timer) {
    this.name = name;
    this.pool = pool;
    this.listeners = listeners;
    this.timer = timer;
  }

  /** Applies {@code next}; restarts the schedule when the interval changed. */
  synchronized void configure(HealthCheck next) {
    HealthCheck previous = check;
    check = next;
    if (schedule == null || !previous.interval().equals(next.interval())) {
      if (schedule != null) {
        schedule.cancel(false);
      }
      long ms = next.interval().toMillis();
      schedule = timer.scheduleWithFixedDelay(this::round, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  private void round() {
    HealthCheck hc = check;
    for (BackendPool.Member m : pool.members()) {
      probes.execute(
          () -> {
            boolean ok = probe(m, hc);
            if (m.health().record(ok, hc.healthyThreshold(), hc.unhealthyThreshold())) {
              log.info(
                  "{}: backend {} is now {}",
                  name,
                  m.backend().nodeName(),
                  ok ? "healthy" : "unhealthy");
            }
          });
    }
  }

  private boolean probe(BackendPool.Member m, HealthCheck hc) {
    String host = m.backend().address();
    int timeout = (int) hc.timeout().toMillis();
    if (!hc.onTrafficPort()) {
      return hc.protocol() == HealthCheck.Type.HTTP
          ? httpOk(host, hc.port(), hc.path(), timeout)
          : connects(host, hc.port(), timeout);
    }
    for (Listener l : listeners.get()) {
      if (l.protocol() == Protocol.TCP && !connects(host, l.nodePort(), timeout)) {
        return false;
      }
    }
    return true;
  }

  private static boolean connects(String host, int port, int timeoutMs) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), timeoutMs);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean httpOk(String host, int port, String path, int timeoutMs) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), timeoutMs);
      s.setSoTimeout(timeoutMs);
      OutputStream out = s.getOutputStream();
      out.write(
          ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] head = new byte[12];
      int n = in.readNBytes(head, 0, head.length);
      String status = new String(head, 0, n, StandardCharsets.US_ASCII);
      return status.startsWith("HTTP/1.")
          && status.length() >= 12
          && status.substring(9, 12).equals("200");
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public synchronized void close() {
    if (schedule != null) {
      schedule.cancel(false);
    }
    probes.shutdownNow();
  }
}
