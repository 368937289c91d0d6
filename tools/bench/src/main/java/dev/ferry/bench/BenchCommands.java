package dev.ferry.bench;

import dev.ferry.cli.CommandExtension;
import java.util.List;

/**
 * What the benchmarks module adds to {@code ferry} when it is on the class path (the launcher's,
 * never the image's): {@code bench} (the local provider's proxy against a direct connection) and
 * {@code bench scale} (Ferry and upstream's service controller on a real API server).
 */
public final class BenchCommands implements CommandExtension {

  @Override
  public List<Object> commands() {
    return List.of(new ProxyBenchmark());
  }
}
