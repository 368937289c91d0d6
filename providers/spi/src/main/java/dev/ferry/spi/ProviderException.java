package dev.ferry.spi;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Why a provider call failed. The subtype tells the controller what to do: {@link InvalidPlan}
 * warns the user and waits for the Service to change (no retry loop); {@link Throttled} waits as
 * long as the cloud asked; {@link Transient} and {@link QuotaExceeded} back off and retry.
 */
public abstract sealed class ProviderException extends Exception
    permits ProviderException.InvalidPlan,
        ProviderException.Throttled,
        ProviderException.Transient,
        ProviderException.QuotaExceeded {

  private ProviderException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The user must change the Service; nothing was changed in the cloud. */
  public static final class InvalidPlan extends ProviderException {
    private final List<PlanViolation> violations;

    public InvalidPlan(List<PlanViolation> violations) {
      super(
          violations.stream().map(PlanViolation::toString).collect(Collectors.joining("; ")), null);
      if (violations.isEmpty()) {
        throw new IllegalArgumentException("an invalid plan names at least one violation");
      }
      this.violations = List.copyOf(violations);
    }

    public InvalidPlan(String field, String problem) {
      this(List.of(new PlanViolation(field, problem)));
    }

    public List<PlanViolation> violations() {
      return violations;
    }
  }

  /** The cloud asked us to slow down; try again after {@link #retryAfter()}. */
  public static final class Throttled extends ProviderException {
    private final Duration retryAfter;

    public Throttled(String message, Duration retryAfter, Throwable cause) {
      super(message, cause);
      this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
    }

    public Duration retryAfter() {
      return retryAfter;
    }
  }

  /** A failure that may pass: network, server error, a resource still being made. */
  public static final class Transient extends ProviderException {
    public Transient(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** An account or project limit was reached; an operator must raise it or free capacity. */
  public static final class QuotaExceeded extends ProviderException {
    public QuotaExceeded(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
