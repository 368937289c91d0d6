package dev.ferry.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PortsTest {

  @Test
  void distinctPortsOutsideTheOutgoingRangeThatCanBeBound() throws Exception {
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    int low =
        Files.exists(range)
            ? Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0])
            : 32_768;
    for (int i = 0; i < 200; i++) {
      int[] ports = Ports.freePorts(2);
      assertThat(ports[0]).isNotEqualTo(ports[1]);
      for (int port : ports) {
        // an outgoing connection never takes one of these as its own
        assertThat(port).isGreaterThanOrEqualTo(10_000).isLessThan(low);
      }
      try (ServerSocket a = new ServerSocket(ports[0]);
          ServerSocket b = new ServerSocket(ports[1])) {
        assertThat(a.getLocalPort()).isEqualTo(ports[0]);
        assertThat(b.getLocalPort()).isEqualTo(ports[1]);
      }
    }
  }
}
