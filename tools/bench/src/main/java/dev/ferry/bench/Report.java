package dev.ferry.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The figures of a bench: medians over rounds, the table, the round-by-round lines. */
final class Report {
  private Report() {}

  /**
   * Each figure's median over the rounds, figure by figure (so one row's median may come from
   * another round than the next row's); a phase counts as completed only if it did every round.
   */
  @SuppressWarnings("unchecked")
  static Map<String, Object> medians(List<Map<String, Object>> rounds) {
    return (Map<String, Object>) median(new ArrayList<>(rounds));
  }

  private static Object median(List<Object> values) {
    Object first = values.get(0);
    if (values.size() == 1) {
      return first;
    }
    if (first instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Object key : m.keySet()) {
        List<Object> each = new ArrayList<>();
        values.forEach(v -> each.add(v instanceof Map<?, ?> vm ? vm.get(key) : null));
        out.put((String) key, median(each));
      }
      return out;
    }
    if (values.stream().allMatch(v -> v instanceof Number)) {
      List<Object> sorted = new ArrayList<>(values);
      sorted.sort(Comparator.comparingDouble(v -> ((Number) v).doubleValue()));
      int mid = sorted.size() / 2;
      return sorted.size() % 2 == 1
          ? sorted.get(mid)
          : Timing.round(
              (((Number) sorted.get(mid - 1)).doubleValue()
                      + ((Number) sorted.get(mid)).doubleValue())
                  / 2);
    }
    if (first instanceof Boolean) {
      return values.stream().allMatch(Boolean.TRUE::equals);
    }
    return first;
  }

  /**
   * One row of the table: a phase's figure, and whether {@code --rounds} lists it round by round.
   */
  private record Figure(String phase, String key, String label, boolean byRound) {
    /** This figure in one controller's results, or null when its phase did not run. */
    Object in(Map<String, Object> results) {
      Object p = ((Map<?, ?>) results.get("phases")).get(phase);
      return p == null ? null : ((Map<?, ?>) p).get(key);
    }

    /** Whether this figure's phase ran out of time in {@code results}. */
    boolean unfinished(Map<String, Object> results) {
      Object p = ((Map<?, ?>) results.get("phases")).get(phase);
      return p != null && Boolean.FALSE.equals(((Map<?, ?>) p).get("completed"));
    }
  }

  private static final List<Figure> FIGURES =
      List.of(
          new Figure("create", "seconds", "create: all addressed (s)", true),
          new Figure("create", "submittedSeconds", "create: the bench's creates took (s)", false),
          new Figure("create", "p50Seconds", "create: per Service p50 (s)", false),
          new Figure("create", "p99Seconds", "create: per Service p99 (s)", false),
          new Figure("nodeAdded", "secondsToLastCall", "node added -> last call (s)", true),
          new Figure("nodeRemoved", "secondsToLastCall", "node removed -> last call (s)", true),
          new Figure("restart", "startToReadySeconds", "restart: start -> ready (s)", false),
          new Figure(
              "restart", "secondsToLastCall", "restart: start -> last re-check call (s)", false),
          new Figure("restart", "recheckCloudCalls", "restart: re-check cloud calls", false),
          new Figure("delete", "seconds", "delete: all gone (s)", true),
          new Figure("createAgain", "seconds", "create again: all addressed (s)", true),
          new Figure("deleteAgain", "seconds", "delete again: all gone (s)", true),
          new Figure("create", "cloudCalls", "create: cloud calls", false),
          new Figure("create", "throttledCalls", "create: throttled calls", false),
          new Figure("create", "apiWrites", "create: API writes", false),
          new Figure("create", "apiRequests", "create: API requests", false),
          new Figure("nodeAdded", "cloudCalls", "node added: cloud calls", false),
          new Figure("nodeAdded", "throttledCalls", "node added: throttled", false),
          new Figure("nodeAdded", "apiWrites", "node added: API writes", false),
          new Figure("readyFlap", "cloudCalls", "Ready flap: cloud calls", false),
          new Figure("readyFlap", "apiWrites", "Ready flap: API writes", false),
          new Figure("idle", "cloudCalls", "idle: cloud calls", false),
          new Figure("idle", "apiWrites", "idle: API writes", false),
          new Figure("delete", "cloudCalls", "delete: cloud calls", false),
          new Figure("delete", "throttledCalls", "delete: throttled calls", false),
          new Figure("delete", "apiWrites", "delete: API writes", false),
          new Figure("create", "cpuSeconds", "create: CPU (s)", true),
          new Figure("create", "jitCpuSeconds", "create: of which JIT compiling (s)", false),
          new Figure("nodeAdded", "cpuSeconds", "node added: CPU (s)", false),
          new Figure("nodeRemoved", "cpuSeconds", "node removed: CPU (s)", false),
          new Figure("delete", "cpuSeconds", "delete: CPU (s)", false),
          new Figure("create", "cpuPerBenchCpu", "create: CPU per second of the bench's", true),
          new Figure("createAgain", "cpuSeconds", "create again: CPU (s)", true),
          new Figure(
              "createAgain", "jitCpuSeconds", "create again: of which JIT compiling (s)", false),
          new Figure(
              "createAgain", "cpuPerBenchCpu", "create again: CPU per second of the bench's", true),
          new Figure("deleteAgain", "cpuSeconds", "delete again: CPU (s)", false),
          new Figure("create", "clusterCpuSeconds", "create: API server + etcd CPU (s)", false),
          new Figure(
              "nodeAdded", "clusterCpuSeconds", "node added: API server + etcd CPU (s)", false),
          new Figure("delete", "clusterCpuSeconds", "delete: API server + etcd CPU (s)", false),
          new Figure("create", "benchCpuSeconds", "create: the bench's CPU (s)", false),
          new Figure("create", "benchJitCpuSeconds", "create: of which the bench's JIT (s)", false),
          new Figure("create", "idleCpuSeconds", "create: CPU left idle (s)", false));

  /** The timed figures round by round, under the medians. */
  static void printRounds(Map<String, List<Map<String, Object>>> runs) {
    System.out.println("\nround by round (the table above: each figure's median):");
    for (Figure f : FIGURES) {
      if (!f.byRound()) {
        continue;
      }
      StringBuilder line = new StringBuilder("  " + f.label() + ":");
      runs.forEach(
          (name, list) ->
              line.append(' ')
                  .append(name)
                  .append(' ')
                  .append(list.stream().map(f::in).map(String::valueOf).toList()));
      System.out.println(line);
    }
  }

  /** The figures side by side, with upstream-without-limit ÷ Ferry for the times. */
  static void print(
      Map<String, Map<String, Object>> results, String workload, String phaseTimeout) {
    List<String> names = new ArrayList<>(results.keySet());
    List<String[]> rows = new ArrayList<>();
    rows.add(row("start -> ready (s)", results, names, r -> r.get("startToReadySeconds")));
    for (Figure f : FIGURES) {
      rows.add(
          row(
              f.label(),
              results,
              names,
              // a phase that ran out of time: its figures are what it reached
              r ->
                  f.unfinished(r) && f.key().contains("econds")
                      ? "unfinished after " + phaseTimeout
                      : f.in(r)));
    }
    rows.add(row("peak RSS (MiB)", results, names, r -> r.get("peakRssMiB")));
    rows.add(row("CPU over the run (s)", results, names, r -> r.get("cpuSeconds")));
    System.out.printf("%n%s%n", workload);
    List<String> header = new ArrayList<>(List.of(""));
    header.addAll(names);
    if (names.contains("upstream-unthrottled")) {
      header.add("upstream-unthrottled / ferry");
    }
    StringBuilder sb = new StringBuilder("| " + String.join(" | ", header) + " |\n|");
    sb.append("---|".repeat(header.size())).append('\n');
    for (String[] row : rows) {
      sb.append("| ").append(String.join(" | ", row)).append(" |\n");
    }
    System.out.print(sb);
  }

  private static String[] row(
      String label,
      Map<String, Map<String, Object>> results,
      List<String> names,
      java.util.function.Function<Map<String, Object>, Object> value) {
    List<String> cells = new ArrayList<>(List.of(label));
    for (String n : names) {
      Object v = value.apply(results.get(n));
      cells.add(v == null ? "-" : String.valueOf(v));
    }
    if (names.contains("upstream-unthrottled")) {
      Object f = value.apply(results.get("ferry"));
      Object u = value.apply(results.get("upstream-unthrottled"));
      if (f instanceof Number fn && u instanceof Number un && fn.doubleValue() > 0) {
        cells.add(String.format(Locale.ROOT, "%.2f", un.doubleValue() / fn.doubleValue()));
      } else {
        cells.add("-");
      }
    }
    return cells.toArray(String[]::new);
  }
}
