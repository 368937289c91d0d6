package dev.ferry.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class ProcessTailTest {

  private static final Logger ETCD =
      LoggerFactory.getLogger("io.fabric8.kubeapitest.process.EtcdProcess.EtcdProcessLogs");

  @Test
  void keepsTheLastLinesOfEtcdAndKubeApiserverWhileAttachedAndTurnsThemOffAfter() {
    assertThat(ETCD.isDebugEnabled()).as("off before").isFalse();
    ProcessTail tail = ProcessTail.attach();
    try {
      for (int i = 1; i <= 15; i++) {
        ETCD.debug("line {}", i);
      }
      String text = tail.toString();
      assertThat(text)
          .contains("etcd | line 15", "etcd | line 6", "kube-apiserver: (nothing)")
          .doesNotContain("line 5\n");
      tail.clear();
      assertThat(tail.toString()).contains("etcd: (nothing)");
    } finally {
      tail.detach();
    }
    assertThat(ETCD.isDebugEnabled()).as("off again").isFalse();
  }
}
