package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The tier's runtime and its pin watch ({@link NoPinnedCarriers}): the end-to-end tests run the
 * controller in this JVM, so they speak for the image only on the image's Java, and the watch must
 * see a virtual thread that holds its carrier.
 */
class ImageRuntimeIT {

  @Test
  void runsOnTheImagesJava() throws Exception {
    String pom = Files.readString(RealApiServer.HOME.resolve("cli/pom.xml"));
    Matcher base =
        Pattern.compile("<image.base>eclipse-temurin:(\\d+)-jre</image.base>").matcher(pom);
    assertThat(base.find()).as("cli/pom.xml names a Temurin base").isTrue();
    int image = Integer.parseInt(base.group(1));
    assumeTrue(
        Runtime.version().feature() == image,
        "the cluster tier ran on Java "
            + Runtime.version()
            + " while the image ships Java "
            + image
            + ": its pin watch speaks for that runtime, not the image's (set JAVA_HOME to a JDK "
            + image
            + ")");
  }

  @Test
  void theWatchSeesAVirtualThreadBlockedInAClassInitializer() throws Exception {
    NoPinnedCarriers.Watch watch = NoPinnedCarriers.Watch.start();
    Thread.ofVirtual()
        .name(NoPinnedCarriers.PROBE + "-clinit")
        .start(() -> SlowInit.VALUE.length())
        .join();
    List<String> pins = watch.stop();

    assertThat(pins).hasSize(1);
    assertThat(pins.getFirst()).contains("SlowInit.<clinit>");
  }

  @Test
  void synchronizedHoldsTheCarrierOnlyBeforeJava24() throws Exception {
    Object lock = new Object();
    NoPinnedCarriers.Watch watch = NoPinnedCarriers.Watch.start();
    Thread.ofVirtual()
        .name(NoPinnedCarriers.PROBE + "-monitor")
        .start(() -> sleepHolding(lock))
        .join();
    List<String> pins = watch.stop();

    if (Runtime.version().feature() < 24) {
      assertThat(pins).hasSize(1);
      assertThat(pins.getFirst()).contains("sleepHolding");
    } else {
      assertThat(pins).as("Java 24+ unmounts a virtual thread blocked in synchronized").isEmpty();
    }
  }

  private static void sleepHolding(Object lock) {
    synchronized (lock) {
      sleep();
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static final class SlowInit {
    static final String VALUE;

    static {
      sleep();
      VALUE = "ready";
    }
  }
}
