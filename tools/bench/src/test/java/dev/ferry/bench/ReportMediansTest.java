package dev.ferry.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** How `ferry bench scale --rounds N` folds its rounds into one table. */
class ReportMediansTest {

  private static Map<String, Object> round(double seconds, int calls, boolean completed) {
    return Map.of(
        "startToReadySeconds",
        seconds / 10,
        "phases",
        Map.of("create", Map.of("seconds", seconds, "cloudCalls", calls, "completed", completed)));
  }

  @Test
  @DisplayName("each figure is its own median; a phase completed only if it did every round")
  void figureByFigure() {
    Map<String, Object> m =
        Report.medians(
            List.of(round(12.0, 1000, true), round(8.0, 1002, false), round(10.0, 998, true)));

    Map<?, ?> create = (Map<?, ?>) ((Map<?, ?>) m.get("phases")).get("create");
    assertThat(create.get("seconds")).isEqualTo(10.0);
    assertThat(create.get("cloudCalls")).isEqualTo(1000);
    assertThat(create.get("completed")).isEqualTo(false);
    assertThat(m.get("startToReadySeconds")).isEqualTo(1.0);
  }

  @Test
  @DisplayName("an even number of rounds takes the mean of the middle two")
  void evenRounds() {
    Map<String, Object> m = Report.medians(List.of(round(9.0, 1000, true), round(8.0, 1000, true)));

    Map<?, ?> create = (Map<?, ?>) ((Map<?, ?>) m.get("phases")).get("create");
    assertThat(create.get("seconds")).isEqualTo(8.5);
    assertThat(create.get("completed")).isEqualTo(true);
  }
}
