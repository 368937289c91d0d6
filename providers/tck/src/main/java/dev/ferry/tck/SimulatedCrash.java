package dev.ferry.tck;

/**
 * Thrown right after a cloud call took effect, as if the process died there: the call happened, its
 * answer is lost. An {@link Error}, so that no provider code catches it as a cloud failure.
 */
public final class SimulatedCrash extends Error {
  SimulatedCrash(String operation, long call) {
    super("simulated crash after mutating call #" + call + " (" + operation + ")");
  }
}
