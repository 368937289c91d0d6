package dev.ferry.spi;

/**
 * Why a plan cannot be built, in words the Service's owner can act on.
 *
 * @param field the Service field or annotation at fault, e.g. {@code spec.ports[1].protocol}
 * @param problem what is wrong and how to fix it
 */
public record PlanViolation(String field, String problem) {

  public PlanViolation {
    Names.requireNonBlank(field, "field");
    Names.requireNonBlank(problem, "problem");
  }

  @Override
  public String toString() {
    return field + ": " + problem;
  }
}
