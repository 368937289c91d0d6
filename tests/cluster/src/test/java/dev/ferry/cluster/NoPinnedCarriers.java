package dev.ferry.cluster;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class in which a virtual thread was pinned to its carrier for 20 ms or more (JFR's
 * {@code jdk.VirtualThreadPinned}, at its default threshold). The controller's workers, informer
 * callbacks, provider calls and Event writers are virtual threads on as many carriers as the node
 * has cores; one that blocks while pinned (in a class initializer, a native frame, or before Java
 * 24 inside {@code synchronized}) holds its carrier meanwhile, and two such waits on a two-core
 * node stall every other virtual thread, the lease's renewal among them. The image runs Java 25; on
 * a JDK before 24, where every wait inside {@code synchronized} pins (fabric8's leader election
 * does), the pins are printed and do not fail the class. Registered for every test class of the
 * tier through JUnit's extension auto-detection; threads named {@value #PROBE}… are the tier's own
 * probes of the watch and are not counted.
 */
public final class NoPinnedCarriers implements BeforeAllCallback, AfterAllCallback {

  private static final String EVENT = "jdk.VirtualThreadPinned";
  static final String PROBE = "pin-probe";
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(NoPinnedCarriers.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    context.getStore(NS).put(Watch.class, Watch.start());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    Watch watch = context.getStore(NS).remove(Watch.class, Watch.class);
    List<String> pins =
        watch == null
            ? List.of()
            : watch.stop().stream().filter(p -> !p.startsWith(PROBE)).toList();
    if (pins.isEmpty()) {
      return;
    }
    boolean monitorsPin = Runtime.version().feature() < 24;
    String found =
        pins.size()
            + " virtual thread(s) held their carrier for 20 ms or more in "
            + context.getDisplayName()
            + " on Java "
            + Runtime.version()
            + " (blocked while pinned: a class initializer, a native frame"
            + (monitorsPin ? ", or inside synchronized" : "")
            + "); the first:\n"
            + pins.getFirst();
    if (monitorsPin) {
      System.err.println("WARNING (not the image's Java; ImageRuntimeIT says which): " + found);
      return;
    }
    throw new AssertionError(found);
  }

  /** A JFR stream of the pinned events from {@link #start()} on. */
  record Watch(RecordingStream stream, List<String> pins) {

    static Watch start() {
      List<String> pins = new CopyOnWriteArrayList<>();
      RecordingStream stream = new RecordingStream();
      stream.enable(EVENT).withThreshold(Duration.ofMillis(20)).withStackTrace();
      stream.onEvent(EVENT, e -> pins.add(describe(e)));
      stream.startAsync();
      return new Watch(stream, pins);
    }

    /** Stops the stream once what was recorded up to now is delivered; the pins it saw. */
    List<String> stop() {
      stream.stop();
      stream.close();
      return List.copyOf(pins);
    }
  }

  private static String describe(RecordedEvent e) {
    String frames =
        e.getStackTrace() == null
            ? "  (no stack)"
            : e.getStackTrace().getFrames().stream()
                .limit(40)
                .map(NoPinnedCarriers::frame)
                .collect(Collectors.joining("\n"));
    return e.getThread().getJavaName() + ", " + e.getDuration().toMillis() + " ms:\n" + frames;
  }

  private static String frame(RecordedFrame f) {
    return "  at "
        + f.getMethod().getType().getName()
        + "."
        + f.getMethod().getName()
        + ":"
        + f.getLineNumber();
  }
}
