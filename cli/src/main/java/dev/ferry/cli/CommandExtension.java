package dev.ferry.cli;

import java.util.List;

/**
 * Commands a module on the class path adds to {@code ferry} (found through {@code
 * META-INF/services/dev.ferry.cli.CommandExtension}): the image's class path has none, the
 * launcher's has the demo's ({@code demo}, {@code bench}, and a {@code run} that can also start an
 * embedded API server). So {@code ./ferry} and the image start the same main class, {@link Main},
 * and what ships is what the image's class path holds.
 */
public interface CommandExtension {

  /**
   * picocli command objects; one with the name of one of {@link Main}'s own commands takes its
   * place (it must accept every option of the one it replaces).
   */
  List<Object> commands();

  /** Called before the command line runs, e.g. to quiet logging for a command. */
  default void prepare(String[] args) {}
}
