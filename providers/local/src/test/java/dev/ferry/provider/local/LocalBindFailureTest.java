package dev.ferry.provider.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.Listener;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.Protocol;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A port the process cannot listen on is reported, with its reason, and the others are served. */
class LocalBindFailureTest {

  private static final Cidr POOL = Cidr.parse("127.0.119.0/28");
  private static final String IP = "127.0.119.5";

  @Test
  @DisplayName(
      "a taken port gets ferry.dev/BindFailed in the status and a BindFailed Warning with the"
          + " system's reason; the other port is served, and a later ensure binds it once free")
  void takenPortIsReportedAndRetried() throws Exception {
    List<String> warnings = new CopyOnWriteArrayList<>();
    LocalProvider provider =
        new LocalProvider(
            new LocalCloud(POOL),
            new LocalSettings(POOL, Duration.ofSeconds(1), Duration.ofSeconds(5)),
            (ref, reason, message) -> warnings.add(reason + ": " + message));
    LoadBalancerPlan plan =
        LoadBalancerPlan.builder(
                new LoadBalancerRef("bind", "a", "web", "00000000-0000-0000-0000-000000000001"),
                List.of(
                    new Listener("taken", Protocol.TCP, 18701, 30701),
                    new Listener("free", Protocol.TCP, 18702, 30702)),
                new HealthCheck(
                    HealthCheck.Type.TCP,
                    0,
                    "",
                    Duration.ofSeconds(5),
                    Duration.ofSeconds(2),
                    2,
                    2))
            .requestedIp(Optional.of(IP))
            .build();

    LoadBalancerStatus.Ingress ingress;
    try (ServerSocket squatter = new ServerSocket()) {
      squatter.bind(new InetSocketAddress(InetAddress.getByName(IP), 18701));
      ingress = provider.ensure(plan).ingress().getFirst();
    }

    assertThat(ingress.ip()).contains(IP);
    assertThat(ingress.ports())
        .containsExactly(
            new LoadBalancerStatus.PortStatus(18701, Protocol.TCP, "ferry.dev/BindFailed"));
    assertThat(warnings).hasSize(1);
    assertThat(warnings.getFirst())
        .startsWith("BindFailed: cannot listen on " + IP + ":18701/TCP: ")
        .contains("in use")
        .contains("the other ports are served");
    try (var client = new java.net.Socket(IP, 18702)) {
      assertThat(client.isConnected()).as("the free port is served").isTrue();
    }

    // the squatter is gone: the next ensure binds the port and reports nothing more
    assertThat(provider.ensure(plan).ingress().getFirst().ports()).isEmpty();
    assertThat(warnings).hasSize(1);
    provider.ensureDeleted(plan.ref());
  }
}
