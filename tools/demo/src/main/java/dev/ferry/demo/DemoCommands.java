package dev.ferry.demo;

import dev.ferry.cli.CommandExtension;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogManager;

/**
 * What the demo module adds to {@code ferry} when it is on the class path (the launcher's, never
 * the image's): {@code demo}, and a {@code run} that can also start an embedded API server.
 */
public final class DemoCommands implements CommandExtension {

  @Override
  public List<Object> commands() {
    return List.of(new DemoMain.Demo(), new DemoMain.Run());
  }

  @Override
  public void prepare(String[] args) {
    if (System.getenv("FERRY_LOG_LEVEL") == null && System.getProperty("FERRY_LOG_LEVEL") == null) {
      System.setProperty(
          "FERRY_LOG_LEVEL", args.length > 0 && args[0].equals("demo") ? "WARN" : "INFO");
    }
    LogManager.getLogManager().getLogger("").setLevel(Level.WARNING);
    for (var h : LogManager.getLogManager().getLogger("").getHandlers()) {
      h.setLevel(Level.WARNING);
    }
  }
}
