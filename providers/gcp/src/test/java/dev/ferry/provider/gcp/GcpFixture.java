package dev.ferry.provider.gcp;

import dev.ferry.spi.Backend;
import dev.ferry.spi.ProviderContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Compute fake seeded as a GKE cluster's project ({@link GkeProject}), its nodes, and providers
 * wired to it, for the GCP provider's tests. Lists page two items at a time, so every list the
 * provider reads is paged; every operation goes PENDING, RUNNING, DONE.
 */
final class GcpFixture {

  static final String PROJECT = GkeProject.PROJECT;
  static final String REGION = GkeProject.REGION;
  static final List<String> ZONES = GkeProject.NODE_ZONES;
  static final String NODE_TAG = GkeProject.NODE_TAG;

  /** The nodes GKE put in its own groups before Ferry came. */
  static final int SEEDED = 3;

  private GcpFixture() {}

  static ComputeFake start() {
    try {
      ComputeFake fake = new ComputeFake();
      fake.runningPolls(1);
      fake.pageSize(2);
      GkeProject.seed(fake, SEEDED);
      return fake;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The seeded nodes and, past them, new VMs, as Nodes would name them. */
  static List<Backend> nodes(ComputeFake fake, int count) {
    List<Backend> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(i < SEEDED ? backend(i) : node(fake, i));
    }
    return out;
  }

  /** A new node VM {@code i} (not in GKE's groups yet) and its Node. */
  static Backend node(ComputeFake fake, int i) {
    GkeProject.node(fake, i);
    return backend(i);
  }

  static Backend backend(int i) {
    String zone = GkeProject.zoneOf(i);
    String name = GkeProject.NODE_PREFIX + i;
    return new Backend(
        name, "gce://" + PROJECT + "/" + zone + "/" + name, "10.132.0." + (i + 2), zone);
  }

  static Map<String, String> settings(ComputeFake fake) {
    return Map.of(
        GcpProviderFactory.PROJECT,
        PROJECT,
        GcpProviderFactory.REGION,
        REGION,
        GcpProviderFactory.NETWORK,
        GkeProject.NETWORK,
        GcpProviderFactory.ENDPOINT,
        fake.endpoint());
  }

  static GcpProvider provider(ComputeFake fake, ProviderContext.Builder context) {
    return GcpProviderFactory.create(
        context.settings(settings(fake)).build(), Duration.ofMillis(5), 600_000);
  }
}
