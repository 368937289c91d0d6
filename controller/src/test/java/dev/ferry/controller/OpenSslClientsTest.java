package dev.ferry.controller;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.HttpClient;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS to the API server through BoringSSL: requests go through it, and the server's certificate is
 * checked exactly as the JDK's engine checks it (the CA, and the host name against the SANs).
 */
class OpenSslClientsTest {

  private static final String PASSWORD = "changeit";
  private static final String NAMESPACES =
      "{\"kind\":\"NamespaceList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[]}";

  @TempDir static Path dir;

  /** A certificate for 127.0.0.1, the address the tests connect to. */
  private static KeyStore loopback;

  /** A certificate for a name the tests do not connect to. */
  private static KeyStore elsewhere;

  private HttpsServer server;

  @BeforeAll
  static void certificates() throws Exception {
    loopback = keytool("loopback", "ip:127.0.0.1");
    elsewhere = keytool("elsewhere", "dns:elsewhere.invalid");
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  @Test
  @DisplayName("BoringSSL carries the request and the CA is checked on its engine")
  void boringSsl() throws Exception {
    assertThat(OpenSslClients.available()).as("netty-tcnative loads on this platform").isTrue();
    String url = serve(loopback);
    Recording trust = new Recording(loopback);

    assertThat(get(trust, url)).isEqualTo(NAMESPACES);
    assertThat(trust.engines).isNotEmpty().allMatch(engine -> engine.contains("OpenSsl"));
  }

  @Test
  @DisplayName("a certificate for another host name is refused")
  void hostName() throws Exception {
    String url = serve(elsewhere);
    Recording trust = new Recording(elsewhere);

    assertThatThrownBy(() -> get(trust, url)).isNotNull();
    // the CA is the certificate itself, so the host name is what the check refused
    assertThat(trust.refused).isPositive();
    assertThat(trust.engines).isNotEmpty().allMatch(engine -> engine.contains("OpenSsl"));
  }

  @Test
  @DisplayName("a certificate from a CA the client does not trust is refused")
  void unknownCa() throws Exception {
    String url = serve(loopback);
    Recording trust = new Recording(elsewhere);

    assertThatThrownBy(() -> get(trust, url)).isNotNull();
    assertThat(trust.refused).isPositive();
  }

  @Test
  @DisplayName("every client runs on one shared event loop, which a closed client leaves running")
  void oneEventLoop() throws Exception {
    int loops = 0;
    for (var ignored : OpenSslClients.vertx().nettyEventLoopGroup()) {
      loops++;
    }
    assertThat(loops).isEqualTo(1);
    String url = serve(loopback);
    for (int i = 0; i < 2; i++) { // the second after the first closed
      try (KubernetesClient client = clientTrusting(url, loopback)) {
        assertThat(client.namespaces().list().getItems()).isEmpty();
      }
    }
  }

  @Test
  @DisplayName("the controller's client, configured from a kubeconfig's CA data, lists through it")
  void controllerClient() throws Exception {
    String url = serve(loopback);
    try (KubernetesClient client = clientTrusting(url, loopback)) {
      assertThat(client.namespaces().list().getItems()).isEmpty();
    }
    try (KubernetesClient client = clientTrusting(url, elsewhere)) {
      assertThatThrownBy(() -> client.namespaces().list()).isNotNull();
    }
  }

  /** The controller's client for {@code url}, trusting {@code ca}'s certificate as its CA data. */
  private static KubernetesClient clientTrusting(String url, KeyStore ca) throws Exception {
    String pem = pem((X509Certificate) ca.getCertificate("server"));
    return KubeClients.build(
        new ConfigBuilder()
            .withMasterUrl(url)
            .withCaCertData(Base64.getEncoder().encodeToString(pem.getBytes(UTF_8)))
            .withRequestRetryBackoffLimit(0)
            .build());
  }

  private static String get(TrustManager trust, String url) throws Exception {
    try (HttpClient client =
        new OpenSslClients()
            .newBuilder()
            .sslContext(null, new TrustManager[] {trust})
            .connectTimeout(5, TimeUnit.SECONDS)
            .build()) {
      return client
          .sendAsync(
              client.newHttpRequestBuilder().uri(url + "/api/v1/namespaces").build(), String.class)
          .get(3, TimeUnit.SECONDS) // a refused handshake is retried, on either engine, until then
          .body();
    }
  }

  private String serve(KeyStore certificate) throws Exception {
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(certificate, PASSWORD.toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(context));
    server.createContext(
        "/api/v1/namespaces",
        exchange -> {
          byte[] body = NAMESPACES.getBytes(UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    return "https://127.0.0.1:" + server.getAddress().getPort();
  }

  /** A self-signed EC certificate for {@code san}, made by the JDK's keytool. */
  private static KeyStore keytool(String name, String san) throws Exception {
    Path store = dir.resolve(name + ".p12");
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "server",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=" + name,
                "-ext",
                "SAN=" + san,
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                PASSWORD)
            .redirectErrorStream(true)
            .start();
    String output = new String(keytool.getInputStream().readAllBytes(), UTF_8);
    assertThat(keytool.waitFor(Duration.ofSeconds(60).toSeconds(), TimeUnit.SECONDS))
        .as(output)
        .isTrue();
    assertThat(keytool.exitValue()).as(output).isZero();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keys.load(in, PASSWORD.toCharArray());
    }
    return keys;
  }

  private static String pem(X509Certificate certificate) throws Exception {
    return "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(UTF_8)).encodeToString(certificate.getEncoded())
        + "\n-----END CERTIFICATE-----\n";
  }

  /** The JDK's PKIX trust manager for one certificate, noting the engine each check ran on. */
  private static final class Recording extends X509ExtendedTrustManager {
    final List<String> engines = new CopyOnWriteArrayList<>();
    volatile int refused;
    private final X509ExtendedTrustManager pkix;

    Recording(KeyStore anchor) throws Exception {
      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      trusted.setCertificateEntry("ca", anchor.getCertificate("server"));
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trusted);
      pkix = (X509ExtendedTrustManager) factory.getTrustManagers()[0];
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws java.security.cert.CertificateException {
      engines.add(engine.getClass().getName());
      try {
        pkix.checkServerTrusted(chain, authType, engine);
      } catch (java.security.cert.CertificateException e) {
        refused++;
        throw e;
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws java.security.cert.CertificateException {
      pkix.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws java.security.cert.CertificateException {
      pkix.checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws java.security.cert.CertificateException {
      pkix.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws java.security.cert.CertificateException {
      pkix.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws java.security.cert.CertificateException {
      pkix.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return pkix.getAcceptedIssuers();
    }
  }
}
