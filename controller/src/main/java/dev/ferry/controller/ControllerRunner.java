package dev.ferry.controller;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a controller until it stops or the JVM is asked to exit (SIGTERM, ^C), and turns a start-up
 * refusal (a bad flag, no API server, a broken plugin) into one line on stderr and exit code 2.
 */
public final class ControllerRunner {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(ControllerRunner.class);

  private ControllerRunner() {}

  /** Starts a controller and blocks until it stops or the JVM is asked to exit. */
  public static int runUntilStopped(RunOptions options) throws Exception {
    return runUntilStopped(options, () -> {});
  }

  /**
   * As {@link #runUntilStopped(RunOptions)}, then runs {@code afterStop} once, on every way out:
   * the controller exiting on its own, failing to start, or being stopped by SIGTERM or ^C. In the
   * last case it runs in the shutdown hook, after the controller has stopped, since the JVM halts
   * once its hooks are done whatever its other threads are doing.
   */
  public static int runUntilStopped(RunOptions options, Runnable afterStop) throws Exception {
    Runnable once =
        new Runnable() {
          private boolean ran;

          @Override
          public synchronized void run() { // a second caller waits until the first is done
            if (!ran) {
              ran = true;
              afterStop.run();
            }
          }
        };
    // the hook goes in before the process starts: a SIGTERM during start-up (informers syncing,
    // the lease campaign begun) is then a graceful stop too, not a JVM exit with no word
    AtomicReference<ControllerProcess> started = new AtomicReference<>();
    Thread hook =
        new Thread(
            () -> {
              ControllerProcess p = started.get();
              if (p == null || !p.hasStopped()) {
                log.info("asked to stop (SIGTERM or ^C); shutting down");
                if (p != null) {
                  p.close();
                }
                log.info("stopped");
              }
              once.run();
            },
            "ferry-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      ControllerProcess process;
      try {
        process = ControllerProcess.start(options);
        started.set(process);
      } catch (IllegalArgumentException | IllegalStateException e) {
        System.err.println("ferry: " + e.getMessage());
        return 2;
      } finally {
        if (started.get() == null) {
          try {
            Runtime.getRuntime().removeShutdownHook(hook); // it never started: nothing to stop
          } catch (IllegalStateException shuttingDown) {
            // the hook is already running
          }
        }
      }
      return process.awaitExit();
    } finally {
      once.run();
    }
  }
}
