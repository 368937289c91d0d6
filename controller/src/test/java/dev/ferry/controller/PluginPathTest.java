package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.spi.LoadBalancerProviderFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plugins from {@code --plugin-path}: each in a class loader of its own, and refused at start-up
 * when built for another contract. The plugins are compiled here, from source, as a third party
 * would build them.
 */
class PluginPathTest {

  @TempDir Path tmp;

  /** What the plugin's service file names. */
  private String serviceLine = "com.example.echo.EchoFactory";

  private static final String FACTORY =
      """
      package com.example.echo;

      import dev.ferry.spi.*;
      import java.util.*;

      public final class EchoFactory implements LoadBalancerProviderFactory {
        public String name() { return "%s"; }
        %s
        public LoadBalancerProvider create(ProviderContext context) {
          // the plugin's own copy of a library Ferry also has: must be the plugin's
          String lib = picocli.CommandLine.class.getClassLoader().getName();
          throw new IllegalStateException("created with picocli from " + lib);
        }
      }
      """;

  private static final String OWN_PICOCLI = "package picocli; public final class CommandLine { }";

  /** Compiles {@code sources} (path -> text) and jars the classes of {@code keep} packages. */
  private Path plugin(String name, Map<String, String> sources, List<String> keep)
      throws IOException {
    Path src = Files.createDirectories(tmp.resolve(name + "-src"));
    Path classes = Files.createDirectories(tmp.resolve(name + "-classes"));
    List<String> files = new ArrayList<>();
    for (var e : sources.entrySet()) {
      Path f = src.resolve(e.getKey());
      Files.createDirectories(f.getParent());
      Files.writeString(f, e.getValue());
      files.add(f.toString());
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    List<String> args =
        new ArrayList<>(
            List.of(
                "-d",
                classes.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "-implicit:none",
                "--release",
                "21"));
    args.addAll(files);
    assertThat(javac.run(null, null, null, args.toArray(String[]::new))).isZero();
    Path dir = Files.createDirectories(tmp.resolve("plugins").resolve(name));
    Path jar = dir.resolve(name + ".jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
        Stream<Path> walk = Files.walk(classes)) {
      for (Path c : walk.filter(Files::isRegularFile).toList()) {
        String entry = classes.relativize(c).toString().replace('\\', '/');
        if (keep.stream().anyMatch(entry::startsWith)) {
          out.putNextEntry(new JarEntry(entry));
          out.write(Files.readAllBytes(c));
          out.closeEntry();
        }
      }
      out.putNextEntry(new JarEntry("META-INF/services/dev.ferry.spi.LoadBalancerProviderFactory"));
      out.write((serviceLine + "\n").getBytes());
      out.closeEntry();
    }
    return tmp.resolve("plugins");
  }

  private static String versioned(String version) {
    return "public String spiVersion() { return \"" + version + "\"; }";
  }

  @Test
  @DisplayName(
      "a plugin directory is loaded in its own class loader: its libraries win over Ferry's")
  void loadsInItsOwnClassLoader() throws Exception {
    Path plugins =
        plugin(
            "echo",
            Map.of(
                "com/example/echo/EchoFactory.java",
                FACTORY.formatted("echo", versioned(dev.ferry.spi.SpiVersion.CURRENT)),
                "picocli/CommandLine.java",
                OWN_PICOCLI),
            List.of("com/example", "picocli"));
    ProviderRegistry registry =
        ProviderRegistry.load(getClass().getClassLoader(), List.of(plugins));
    assertThat(registry.names()).contains("aws", "azure", "gcp", "local", "echo");
    LoadBalancerProviderFactory echo = registry.get("echo");
    assertThat(echo.getClass().getClassLoader()).isInstanceOf(PluginClassLoader.class);
    assertThatThrownBy(() -> echo.create(null))
        .hasMessage("created with picocli from ferry-plugin-echo");
  }

  @Test
  @DisplayName(
      "a plugin built for SPI 1.2 (before IP families) still loads on 1.4: the contract grew"
          + " compatibly")
  void olderMinorAccepted() throws Exception {
    Path plugins =
        plugin(
            "older",
            Map.of(
                "com/example/echo/EchoFactory.java",
                FACTORY.formatted("older", versioned("1.2")),
                "picocli/CommandLine.java",
                OWN_PICOCLI),
            List.of("com/example", "picocli"));
    ProviderRegistry registry =
        ProviderRegistry.load(getClass().getClassLoader(), List.of(plugins));
    assertThat(dev.ferry.spi.SpiVersion.CURRENT).isEqualTo("1.4");
    assertThat(registry.get("older").spiVersion()).isEqualTo("1.2");
  }

  @Test
  @DisplayName("a plugin declaring a newer SPI is refused at start-up, naming both versions")
  void newerSpiRefused() throws Exception {
    Path plugins =
        plugin(
            "future",
            Map.of(
                "com/example/echo/EchoFactory.java",
                FACTORY.formatted("future", versioned("1.7")),
                "picocli/CommandLine.java",
                OWN_PICOCLI),
            List.of("com/example"));
    ProviderRegistry registry =
        ProviderRegistry.load(getClass().getClassLoader(), List.of(plugins));
    assertThatThrownBy(() -> registry.get("future"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("provider 'future'")
        .hasMessageContaining("plugin " + plugins.resolve("future"))
        .hasMessageContaining("built for SPI 1.7")
        .hasMessageContaining("provides SPI " + dev.ferry.spi.SpiVersion.CURRENT);
    // the in-tree providers still run
    assertThat(registry.get("local")).isNotNull();
  }

  @Test
  @DisplayName(
      "a plugin compiled against the contract before 1.0 (no spiVersion) is refused at start-up"
          + " through ferry run, exit 2")
  void previousShapeRefused() throws Exception {
    String oldContract =
        """
        package dev.ferry.spi;
        public interface LoadBalancerProviderFactory {
          String name();
          LoadBalancerProvider create(ProviderContext context);
        }
        """;
    Path plugins =
        plugin(
            "old",
            Map.of(
                "com/example/echo/EchoFactory.java",
                FACTORY.formatted("old", ""),
                "dev/ferry/spi/LoadBalancerProviderFactory.java",
                oldContract,
                "picocli/CommandLine.java",
                OWN_PICOCLI),
            List.of("com/example"));
    Run run = run(plugins, "old");
    int code = run.code();
    String bytes = run.err();
    assertThat(code).isEqualTo(2);
    assertThat(bytes)
        .contains("provider 'old'")
        .contains("before " + dev.ferry.spi.SpiVersion.CURRENT)
        .contains("rebuild it against dev.ferry:ferry-provider-spi");
  }

  @Test
  @DisplayName(
      "a plugin whose service file names a class that is not there ends ferry run with one line"
          + " naming the plugin, its jar and the class, exit 2")
  void missingClassIsOneLine() throws Exception {
    serviceLine = "com.example.echo.NotThere";
    Path plugins =
        plugin(
            "typo",
            Map.of(
                "com/example/echo/EchoFactory.java",
                FACTORY.formatted("typo", versioned(dev.ferry.spi.SpiVersion.CURRENT))),
            List.of("com/example"));
    Run run = run(plugins, "typo");
    int code = run.code();
    String bytes = run.err();
    String err = bytes.strip();
    assertThat(code).isEqualTo(2);
    assertThat(err.lines())
        .singleElement()
        .satisfies(
            line ->
                assertThat(line)
                    .startsWith("ferry: plugin " + plugins.resolve("typo"))
                    .contains("typo.jar", "com.example.echo.NotThere"));
  }

  /** {@code ferry run} as the command line has it (the cli module, which this one precedes). */
  @picocli.CommandLine.Command(name = "run")
  static final class RunCommand implements java.util.concurrent.Callable<Integer> {
    @picocli.CommandLine.Mixin RunOptions options;

    @Override
    public Integer call() throws Exception {
      return ControllerRunner.runUntilStopped(options);
    }
  }

  private record Run(int code, String err) {}

  /** {@code ferry run} with the plugins and provider, its exit code and what it wrote to stderr. */
  private static Run run(Path plugins, String provider) {
    java.io.PrintStream original = System.err;
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(bytes, true));
    try {
      int code =
          new picocli.CommandLine(new RunCommand())
              .execute(
                  "--plugin-path",
                  plugins.toString(),
                  "--provider",
                  provider,
                  "--metrics-port",
                  "0");
      return new Run(code, bytes.toString());
    } finally {
      System.setErr(original);
    }
  }
}
