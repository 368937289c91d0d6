package dev.ferry.demo;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.CyclicBufferAppender;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The last lines etcd and kube-apiserver printed, kept while kube-api-test starts them. It hands
 * their output to loggers at debug level, which Ferry's logging config leaves off; this turns those
 * two loggers on into a ring buffer of its own, and off again on {@link #detach}.
 */
final class ProcessTail {

  private static final int LINES = 10;

  private record Source(
      String label,
      Logger logger,
      Level level,
      boolean additive,
      CyclicBufferAppender<ILoggingEvent> buffer) {}

  private final List<Source> sources = new ArrayList<>();

  private ProcessTail() {}

  static ProcessTail attach() {
    ProcessTail tail = new ProcessTail();
    tail.add("etcd", "io.fabric8.kubeapitest.process.EtcdProcess.EtcdProcessLogs");
    tail.add(
        "kube-apiserver",
        "io.fabric8.kubeapitest.process.KubeAPIServerProcess.APIServerProcessLogs");
    return tail;
  }

  private void add(String label, String loggerName) {
    Logger logger = (Logger) LoggerFactory.getLogger(loggerName); // the demo's binding: logback
    CyclicBufferAppender<ILoggingEvent> buffer = new CyclicBufferAppender<>();
    buffer.setMaxSize(LINES);
    buffer.setContext(logger.getLoggerContext());
    buffer.start();
    sources.add(new Source(label, logger, logger.getLevel(), logger.isAdditive(), buffer));
    logger.addAppender(buffer);
    logger.setAdditive(false);
    logger.setLevel(Level.DEBUG);
  }

  void clear() {
    sources.forEach(s -> s.buffer().reset());
  }

  void detach() {
    for (Source s : sources) {
      s.logger().setLevel(s.level());
      s.logger().setAdditive(s.additive());
      s.logger().detachAppender(s.buffer());
      s.buffer().stop();
    }
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    for (Source s : sources) {
      int n = s.buffer().getLength();
      if (n == 0) {
        out.append("  ").append(s.label()).append(": (nothing)\n");
      }
      for (int i = 0; i < n; i++) {
        out.append("  ").append(s.label()).append(" | ");
        out.append(s.buffer().get(i).getFormattedMessage()).append('\n');
      }
    }
    return out.toString().stripTrailing();
  }
}
