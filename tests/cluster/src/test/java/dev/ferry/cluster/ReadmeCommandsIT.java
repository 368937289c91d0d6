package dev.ferry.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.provider.aws.MotoServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Docs that cannot rot: every {@code sh} block of the README, then of every page under {@code
 * docs/} (in the order of {@link DocLinksTest#pages}), runs in a real bash, in order, in a copy of
 * the project, with the real tools on the PATH (the cluster tier's kubectl, moto_server, and Helm
 * through {@link HelmShim}) and {@code KUBECONFIG} pointing at the demo the quick start starts (a
 * real kube-apiserver). A quoting or flag error in the README fails this test.
 *
 * <p>A comment right before a block says how to treat it, e.g. {@code <!-- readme-test:
 * until="caches synced" -->}: {@code until="TEXT"} (a command that keeps running: it must print
 * TEXT, then it is stopped), {@code keep} (with until: left running for the later blocks, like the
 * demo), {@code expect="TEXT"} (the output, after a stop too, must contain it; repeatable), {@code
 * absent="TEXT"} (must not), {@code cluster} (against the cluster tier's API server instead of the
 * demo's), {@code skip="REASON"} (reported, never counted as passing). Blocks without a comment
 * must exit 0.
 */
class ReadmeCommandsIT {

  private static final Pattern MARKER = Pattern.compile("<!--\\s*readme-test:(.*?)-->");
  private static final Pattern OPTION = Pattern.compile("(\\w+)(?:=\"([^\"]*)\")?");

  @TempDir Path tmp;

  record Block(String page, int line, String script, Map<String, List<String>> options) {
    boolean has(String key) {
      return options.containsKey(key);
    }

    String first(String key) {
      return options.get(key).get(0);
    }
  }

  static List<Block> blocks(String page, List<String> readme) {
    List<Block> blocks = new ArrayList<>();
    Map<String, List<String>> pending = Map.of();
    for (int i = 0; i < readme.size(); i++) {
      String line = readme.get(i);
      Matcher m = MARKER.matcher(line);
      if (m.find()) {
        Map<String, List<String>> options = new LinkedHashMap<>();
        Matcher o = OPTION.matcher(m.group(1));
        while (o.find()) {
          options
              .computeIfAbsent(o.group(1), k -> new ArrayList<>())
              .add(o.group(2) == null ? "" : o.group(2));
        }
        pending = options;
      } else if (line.strip().equals("```sh")) {
        StringBuilder script = new StringBuilder();
        int start = i + 1;
        while (!readme.get(++i).strip().equals("```")) {
          script.append(readme.get(i)).append('\n');
        }
        blocks.add(new Block(page, start, script.toString(), pending));
        pending = Map.of();
      } else if (!line.isBlank()) {
        pending = Map.of(); // a marker applies to the block right after it only
      }
    }
    return blocks;
  }

  @Test
  @DisplayName("every shell block of the README and of docs/ runs as documented")
  void readmeCommands() throws Exception {
    RealApiServer api = RealApiServer.get();
    List<Block> blocks = new ArrayList<>();
    for (Path page : DocLinksTest.pages(RealApiServer.HOME)) {
      blocks.addAll(
          blocks(RealApiServer.HOME.relativize(page).toString(), Files.readAllLines(page)));
    }
    assertThat(blocks).hasSizeGreaterThan(15);

    Path project = copyProject(RealApiServer.HOME, tmp.resolve("ferry"));
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    tool(bin.resolve("kubectl"), api.kubectl.toString());
    tool(bin.resolve("moto_server"), MotoServer.binary());
    Path helm = bin.resolve("helm");
    Files.writeString(
        helm,
        "#!/bin/sh\nexec '%s' -cp '%s' dev.ferry.cluster.HelmShim \"$@\"\n"
            .formatted(
                ProcessHandle.current().info().command().orElse("java"),
                System.getProperty("java.class.path")));
    helm.toFile().setExecutable(true);
    Path clusterKubeconfig = api.adminKubeconfigFile(tmp);
    Path demoKubeconfig = project.resolve(".ferry/demo.kubeconfig");

    List<Process> keep = new ArrayList<>();
    List<String> report = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    int ran = 0;
    int skipped = 0;
    try {
      for (Block b : blocks) {
        String where = b.page() + ":" + b.line();
        if (b.has("skip")) {
          skipped++;
          report.add("SKIP " + where + ": " + b.first("skip"));
          continue;
        }
        ran++;
        Path out = tmp.resolve("block-" + b.page().replace('/', '_') + "-" + b.line() + ".log");
        ProcessBuilder pb =
            // its own session: stopping it stops whatever it started in the background too
            new ProcessBuilder("setsid", "bash", "-euo", "pipefail", "-c", b.script())
                .directory(project.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile());
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment()
            .put("KUBECONFIG", (b.has("cluster") ? clusterKubeconfig : demoKubeconfig).toString());
        Process p = pb.start();
        String problem;
        if (b.has("until")) {
          problem = awaitText(p, out, b.first("until"), Duration.ofMinutes(3));
          if (b.has("keep") && problem == null) {
            keep.add(p);
          } else {
            stop(p);
          }
        } else {
          problem = awaitExit(p, Duration.ofMinutes(6));
          stop(p); // anything it left running in the background
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        for (String text : b.options().getOrDefault("expect", List.of())) {
          if (problem == null && !output.contains(text)) {
            problem = "its output lacks \"" + text + "\"";
          }
        }
        for (String text : b.options().getOrDefault("absent", List.of())) {
          if (problem == null && output.contains(text)) {
            problem = "its output shows \"" + text + "\"";
          }
        }
        if (problem == null) {
          report.add("PASS " + where);
        } else {
          report.add("FAIL " + where + ": " + problem);
          failures.add(
              where
                  + ": "
                  + problem
                  + "\n--- the block:\n"
                  + b.script()
                  + "--- its output:\n"
                  + tail(output));
        }
      }
    } finally {
      keep.forEach(ReadmeCommandsIT::stop);
    }
    System.out.println("README and docs commands: " + String.join("\n  ", report));
    System.out.printf(
        "README and docs commands: %d blocks ran, %d failed, %d skipped (reasons above)%n",
        ran, failures.size(), skipped);
    assertThat(failures).as(String.join("\n\n", failures)).isEmpty();
  }

  private static void tool(Path at, String target) throws IOException {
    Files.writeString(at, "#!/bin/sh\nexec '" + target + "' \"$@\"\n");
    at.toFile().setExecutable(true);
  }

  private static String awaitText(Process p, Path out, String text, Duration limit)
      throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.readString(out, StandardCharsets.UTF_8).contains(text)) {
        return null;
      }
      if (p.waitFor(200, TimeUnit.MILLISECONDS)) {
        return Files.readString(out, StandardCharsets.UTF_8).contains(text)
            ? null
            : "it exited (" + p.exitValue() + ") before printing \"" + text + "\"";
      }
    }
    return "it did not print \"" + text + "\" within " + limit.toSeconds() + " s";
  }

  private static String awaitExit(Process p, Duration limit) throws InterruptedException {
    if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      stop(p);
      return "it did not finish within " + limit.toSeconds() + " s";
    }
    return p.exitValue() == 0 ? null : "it exited with " + p.exitValue();
  }

  /**
   * SIGTERM to the block's session (its shell, and everything it started, background jobs
   * included), as ^C in its terminal would; SIGKILL for what is left after 20 s.
   */
  private static void stop(Process p) {
    signalGroup(p, "TERM");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline && groupAlive(p)) {
      try {
        Thread.sleep(100); // polling a process group; no event to wait on
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    signalGroup(p, "KILL");
  }

  private static void signalGroup(Process p, String signal) {
    try {
      new ProcessBuilder("kill", "-" + signal, "--", "-" + p.pid())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start()
          .waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      // nothing to signal
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean groupAlive(Process p) {
    try {
      return new ProcessBuilder("kill", "-0", "--", "-" + p.pid())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start()
              .waitFor()
          == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static String tail(String output) {
    List<String> lines = output.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  /**
   * The project as a user has it after building once: sources and build outputs, without git
   * metadata, this module's own outputs or a previous run's state. The launcher's stamp is set so
   * that {@code ./ferry} uses the build the reactor just made.
   */
  private static Path copyProject(Path from, Path to) throws IOException {
    Files.walkFileTree(
        from,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
              throws IOException {
            Path rel = from.relativize(dir);
            if (rel.toString().equals(".git")
                || rel.toString().equals(".ferry")
                || rel.toString().equals("tests/cluster/target")) {
              return FileVisitResult.SKIP_SUBTREE;
            }
            Files.createDirectories(to.resolve(rel.toString()));
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            if (!attrs.isSymbolicLink()) {
              Files.copy(
                  file,
                  to.resolve(from.relativize(file).toString()),
                  StandardCopyOption.COPY_ATTRIBUTES);
            }
            return FileVisitResult.CONTINUE;
          }
        });
    Path stamp = to.resolve("tools/bench/target/.ferry-built");
    Files.createDirectories(stamp.getParent());
    Files.writeString(stamp, "");
    stamp.toFile().setLastModified(System.currentTimeMillis() + 60_000);
    return to;
  }
}
