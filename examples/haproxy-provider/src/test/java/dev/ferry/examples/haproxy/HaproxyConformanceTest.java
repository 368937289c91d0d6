package dev.ferry.examples.haproxy;

import dev.ferry.spi.Backend;
import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Scheme;
import dev.ferry.tck.CloudView;
import dev.ferry.tck.ProviderConformanceKit;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The HAProxy provider against Ferry's conformance kit, on a real haproxy. The kit sees the cloud
 * through HAProxy itself: the runtime API's {@code show stat} (frontends, listening sockets,
 * servers) and the configuration files HAProxy loads (health checks, source ranges).
 */
class HaproxyConformanceTest extends ProviderConformanceKit {

  private static HaproxyFixture fixture;

  @BeforeAll
  static void startScratch() throws IOException {
    HaproxyFixture.binary(); // skips loudly when there is no haproxy
    fixture = new HaproxyFixture("127.0.120.0/24", "fdfe:44:121::/120");
  }

  @AfterAll
  static void stopHaproxy() throws Exception {
    if (fixture != null) {
      fixture.stop();
    }
  }

  @Override
  protected LoadBalancerProvider newProvider() {
    HaproxyProvider p = fixture.provider(clusterName());
    p.onChange(cloudCalls::mutated);
    return p;
  }

  @Override
  protected List<Backend> backends(int count) {
    return IntStream.rangeClosed(1, count)
        .mapToObj(i -> new Backend("node-" + i, "", "127.0.121." + i, ""))
        .toList();
  }

  /** The rows of HAProxy's {@code show stat} for {@code ref}'s proxies. */
  private static List<String[]> stat(LoadBalancerRef ref) {
    Haproxy h = new Haproxy(Path.of(HaproxyFixture.binary()), fixture.dir);
    List<String[]> rows = new ArrayList<>();
    try {
      for (String line : h.command("show stat").split("\n")) {
        String[] f = line.split(",", -1);
        if (f.length > 73 && f[0].matches("[fb]-" + Pattern.quote(ref.uid()) + "-\\d+")) {
          rows.add(f);
        }
      }
    } catch (IOException e) {
      // HAProxy not running: nothing is served
    }
    return rows;
  }

  private static String config(LoadBalancerRef ref) {
    try {
      Path f = fixture.dir.resolve("services").resolve(ref.uid() + ".cfg");
      return Files.exists(f) ? Files.readString(f) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected CloudView cloud() {
    return new CloudView() {
      @Override
      public int loadBalancerCount(LoadBalancerRef ref) {
        return stat(ref).stream().anyMatch(f -> f[1].equals("FRONTEND")) ? 1 : 0;
      }

      @Override
      public Set<String> registeredBackends(LoadBalancerRef ref) {
        Set<String> names = new HashSet<>();
        for (String[] f : stat(ref)) {
          // type 2 is a server; one in maintenance is drained, not registered
          if (f[32].equals("2") && !f[17].startsWith("MAINT")) {
            names.add(f[1]);
          }
        }
        return names;
      }

      @Override
      public Set<String> listeners(LoadBalancerRef ref) {
        Set<String> out = new HashSet<>();
        for (String[] f : stat(ref)) {
          if (f[32].equals("3")) { // a listening socket, with its address
            out.add("TCP/" + f[73].substring(f[73].lastIndexOf(':') + 1));
          }
        }
        return out;
      }

      @Override
      public Probe healthProbe(LoadBalancerRef ref) {
        String cfg = config(ref);
        Matcher server =
            Pattern.compile(
                    "\\n  server \\S+ \\S+ check inter (\\d+) rise \\d+ fall \\d+( port (\\d+))?")
                .matcher(cfg);
        if (!server.find()) {
          throw new AssertionError("no checked server in " + cfg);
        }
        Matcher http = Pattern.compile("option httpchk GET (\\S+)").matcher(cfg);
        boolean isHttp = http.find();
        return new Probe(
            isHttp ? HealthCheck.Type.HTTP : HealthCheck.Type.TCP,
            server.group(3) == null ? HealthCheck.TRAFFIC_PORT : Integer.parseInt(server.group(3)),
            isHttp ? http.group(1) : "",
            Duration.ofMillis(Long.parseLong(server.group(1))));
      }

      @Override
      public Set<String> sourceRanges(LoadBalancerRef ref) {
        Matcher m = Pattern.compile("reject unless \\{ src ([^}]+) }").matcher(config(ref));
        return m.find() ? Set.of(m.group(1).trim().split(" ")) : Set.of("0.0.0.0/0");
      }

      /** One ACL guards every bind: a family's ranges are those of it in the ACL. */
      @Override
      public Set<String> sourceRanges(LoadBalancerRef ref, IpFamily family) {
        Matcher m = Pattern.compile("reject unless \\{ src ([^}]+) }").matcher(config(ref));
        if (!m.find()) {
          return Set.of(family.everyAddress());
        }
        Set<String> out = new HashSet<>();
        for (String r : m.group(1).trim().split(" ")) {
          if (IpFamily.of(r) == family) {
            out.add(r);
          }
        }
        return out;
      }

      @Override
      public Scheme scheme(LoadBalancerRef ref) {
        return Scheme.EXTERNAL;
      }

      @Override
      public int ownedResources(LoadBalancerRef ref) {
        return stat(ref).size() + (config(ref).isEmpty() ? 0 : 1);
      }
    };
  }
}
