package dev.ferry.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's CPU time and peak RSS, from /proc. */
final class ProcStats {
  private ProcStats() {}

  static double cpuSeconds(long pid) {
    try {
      return statCpuSeconds(Path.of("/proc", Long.toString(pid), "stat"));
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** utime + stime of a process's or thread's {@code stat} file. */
  private static double statCpuSeconds(Path stat) throws IOException {
    String s = Files.readString(stat);
    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
    // fields 14 and 15 (utime, stime) are the 12th and 13th after the command name
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }

  /** CPU of the process's JIT compiler threads (HotSpot names them "C1/C2 CompilerThread"). */
  static double jitCpuSeconds(long pid) {
    double sum = 0;
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          if (Files.readString(task.resolve("comm")).contains("CompilerThre")) {
            sum += statCpuSeconds(task.resolve("stat"));
          }
        } catch (IOException | RuntimeException e) {
          // the thread ended (C1/C2 threads come and go with
          // -XX:+UseDynamicNumberOfCompilerThreads)
        }
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return sum;
  }

  /** CPU of the kube-apiserver and etcd this bench started (its child processes). */
  static double clusterCpuSeconds() {
    return ProcessHandle.current()
        .descendants()
        .filter(
            p -> {
              String cmd = p.info().command().orElse("");
              return cmd.endsWith("/kube-apiserver") || cmd.endsWith("/etcd");
            })
        .mapToDouble(p -> cpuSeconds(p.pid()))
        .sum();
  }

  /** The machine's idle and I/O-wait CPU time, all cores summed ({@code /proc/stat}). */
  static double idleCpuSeconds() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      return (Long.parseLong(f[4]) + Long.parseLong(f[5])) / 100.0;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  static long peakRssKib(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return 0;
  }
}
