package dev.ferry.controller;

import io.fabric8.kubernetes.client.vertx.VertxHttpClient;
import io.fabric8.kubernetes.client.vertx.VertxHttpClientBuilder;
import io.fabric8.kubernetes.client.vertx.VertxHttpClientFactory;
import io.netty.handler.ssl.OpenSsl;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509KeyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * fabric8's Vert.x HTTP client with TLS done by BoringSSL (netty-tcnative) instead of the JDK's
 * engine: the same key and trust managers, protocols and host name check, only the record
 * encryption and the handshake run in native code. Under the image's client-only JIT the JDK's
 * AES-GCM is not intrinsified, and TLS was a third of the controller's CPU in a burst of 1,000
 * Services (ferry bench scale). Where the native library does not load (another platform, a {@code
 * /tmp} that cannot map code) the client keeps the JDK's engine and says so once.
 *
 * <p>Every client it builds shares one Vert.x instance with one event loop: a controller's traffic
 * (its watches and its writes) is light and bursty, and one thread handling it all batches what is
 * ready instead of waking four. A 0 ms burst of 1,000 new Services took 2.7 s of the controller's
 * CPU instead of 3.3-3.6 s with Vert.x's default of two loops per core (ferry bench scale).
 */
final class OpenSslClients extends VertxHttpClientFactory {

  private static final Logger LOG = LoggerFactory.getLogger(OpenSslClients.class);

  /** The builder whose {@code build()} is running on this thread, for {@link #additionalConfig}. */
  private static final ThreadLocal<Builder> BUILDING = new ThreadLocal<>();

  private static volatile boolean told;

  /** Whether this process can use BoringSSL (the reason is logged once when it cannot). */
  static boolean available() {
    boolean available = OpenSSLEngineOptions.isAvailable();
    if (!available && !told) {
      told = true;
      LOG.info(
          "TLS to the API server uses the JDK's engine: BoringSSL did not load ({})",
          OpenSsl.unavailabilityCause().toString());
    }
    return available;
  }

  @Override
  public VertxHttpClientBuilder<VertxHttpClientFactory> newBuilder() {
    return new Builder(this);
  }

  /** The one Vert.x instance of every client built here; never closed (its threads are daemons). */
  static Vertx vertx() {
    return Shared.VERTX;
  }

  private static final class Shared {
    static final Vertx VERTX = create();

    /** As fabric8 makes its own, but with one event loop. */
    private static Vertx create() {
      // the JDK's resolver (the API server's name resolves as the rest of the process resolves)
      String dns = System.getProperty("vertx.disableDnsResolver");
      System.setProperty("vertx.disableDnsResolver", "true");
      try {
        return Vertx.vertx(
            new VertxOptions()
                .setEventLoopPoolSize(1)
                .setFileSystemOptions(
                    new FileSystemOptions()
                        .setFileCachingEnabled(false)
                        .setClassPathResolvingEnabled(false))
                .setUseDaemonThread(true));
      } finally {
        if (dns == null) {
          System.clearProperty("vertx.disableDnsResolver");
        } else {
          System.setProperty("vertx.disableDnsResolver", dns);
        }
      }
    }
  }

  @Override
  protected void additionalConfig(WebClientOptions options) {
    Builder builder = BUILDING.get();
    if (builder != null && options.isSsl() && available()) {
      builder.useOpenSsl(options);
    }
  }

  private static final class Builder extends VertxHttpClientBuilder<VertxHttpClientFactory> {

    Builder(OpenSslClients factory) {
      super(factory, vertx()); // shared: fabric8 leaves a Vert.x it was given open
    }

    @Override
    public VertxHttpClient<VertxHttpClientFactory> build() {
      BUILDING.set(this);
      try {
        return super.build();
      } finally {
        BUILDING.remove();
      }
    }

    /**
     * Replaces the JDK engine fabric8 configured with BoringSSL, on the same managers: fabric8's
     * key manager (client certificates) and trust manager (the kubeconfig's CA, or trust-all where
     * the kubeconfig says to skip the check). No trust manager means the JDK's default trust store,
     * as in fabric8's own context.
     */
    void useOpenSsl(WebClientOptions options) {
      options.setSslEngineOptions(new OpenSSLEngineOptions());
      first(keyManagers, X509KeyManager.class)
          .ifPresent(key -> options.setKeyCertOptions(KeyCertOptions.wrap(key)));
      first(trustManagers, TrustManager.class)
          .ifPresent(trust -> options.setTrustOptions(TrustOptions.wrap(trust)));
    }

    private static <T> Optional<T> first(Object[] managers, Class<T> type) {
      return managers == null
          ? Optional.empty()
          : Arrays.stream(managers)
              .filter(Objects::nonNull)
              .filter(type::isInstance)
              .map(type::cast)
              .findFirst();
    }
  }
}
