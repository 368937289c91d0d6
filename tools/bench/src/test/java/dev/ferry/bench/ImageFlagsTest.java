package dev.ferry.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The scale benchmark measures the controller as the image runs it: its default JVM flags and
 * environment are the image's (cli/pom.xml, Jib), with the chart's memory limit as MaxRAM.
 */
class ImageFlagsTest {

  private static final Path ROOT = Path.of("../..");

  private static List<String> all(Pattern pattern, String text) {
    List<String> found = new ArrayList<>();
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      found.add(m.group(1).trim());
    }
    return found;
  }

  @Test
  @DisplayName("the bench's default JVM flags and environment are the image's, sized to the chart")
  void benchRunsTheImagesFlags() throws Exception {
    String pom = Files.readString(ROOT.resolve("cli/pom.xml"));
    List<String> imageFlags =
        all(Pattern.compile("<jvmFlag>([^<]+)</jvmFlag>"), pom).stream()
            .filter(f -> !f.startsWith("-Djava.io.tmpdir"))
            // the bench adds it where its JDK knows the option (24 and later), as ./ferry does
            .filter(f -> !f.startsWith("--sun-misc-unsafe-memory-access"))
            .sorted()
            .toList();
    List<String> benchFlags =
        Arrays.stream(Contender.IMAGE_JVM_FLAGS.trim().split("\\s+"))
            .filter(f -> !f.startsWith("-XX:MaxRAM="))
            .sorted()
            .toList();
    assertThat(benchFlags).isEqualTo(imageFlags);

    Contender.IMAGE_ENVIRONMENT.forEach(
        (name, value) -> assertThat(pom).contains("<" + name + ">" + value + "</" + name + ">"));

    String values = Files.readString(ROOT.resolve("charts/ferry/values.yaml"));
    String limit =
        all(Pattern.compile("limits:\\s*\\n\\s*memory:\\s*(\\S+)"), values).stream()
            .findFirst()
            .orElseThrow();
    String maxRam =
        Arrays.stream(Contender.IMAGE_JVM_FLAGS.split("\\s+"))
            .filter(f -> f.startsWith("-XX:MaxRAM="))
            .findFirst()
            .orElseThrow();
    assertThat(maxRam).isEqualTo("-XX:MaxRAM=" + limit.replace("Mi", "m"));
  }
}
