package dev.ferry.provider.gcp;

import dev.ferry.spi.Backend;
import dev.ferry.spi.ProviderContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A Compute fake with nodes, and providers wired to it, for the GCP provider's tests. */
final class GcpFixture {

  static final String PROJECT = "ferry-test";
  static final String REGION = "europe-west1";
  static final List<String> ZONES = List.of(REGION + "-b", REGION + "-c");
  static final String NODE_TAG = "ferry-tck-node";

  private GcpFixture() {}

  static ComputeFake start() {
    try {
      ComputeFake fake = new ComputeFake();
      fake.runningPolls(1); // every operation is RUNNING once before DONE, as Compute's are
      return fake;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code count} VMs spread over two zones, as Nodes would name them. */
  static List<Backend> nodes(ComputeFake fake, int count) {
    List<Backend> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(node(fake, i));
    }
    return out;
  }

  static Backend node(ComputeFake fake, int i) {
    String zone = ZONES.get(i % ZONES.size());
    String name = "node-" + i;
    fake.addInstance(PROJECT, zone, name, NODE_TAG);
    return new Backend(
        name, "gce://" + PROJECT + "/" + zone + "/" + name, "10.0.0." + (i + 2), zone);
  }

  static Map<String, String> settings(ComputeFake fake) {
    return Map.of(
        GcpProviderFactory.PROJECT, PROJECT,
        GcpProviderFactory.REGION, REGION,
        GcpProviderFactory.ENDPOINT, fake.endpoint());
  }

  static GcpProvider provider(ComputeFake fake, ProviderContext.Builder context) {
    return GcpProviderFactory.create(
        context.settings(settings(fake)).build(), Duration.ofMillis(5), 600_000);
  }
}
