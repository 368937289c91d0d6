package dev.ferry.provider.gcp;

import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.compute.v1.Errors;
import com.google.cloud.compute.v1.Operation;
import dev.ferry.spi.ProviderException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Compute's errors as the SPI's failures: throttling, quotas by name, permissions naming the role
 * to grant; an operation's error with its HTTP status and codes kept ({@link OperationFailed}), so
 * a caller can tell a refusal of what it asked ({@link #refusedAs}) from the cloud's trouble.
 */
final class GcpErrors {

  private GcpErrors() {}

  // an error reason Compute gives for a spent rate budget (403 or 429)
  private static final List<String> THROTTLED = List.of("rateLimitExceeded", "RATE_LIMIT_EXCEEDED");
  private static final List<String> QUOTA = List.of("quotaExceeded", "QUOTA_EXCEEDED");

  private static final Pattern MESSAGE =
      Pattern.compile("\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final Pattern REASON = Pattern.compile("\"reason\"\\s*:\\s*\"([^\"]*)\"");

  static boolean retryable(Throwable t) {
    if (t instanceof ApiException e) {
      return mentions(details(e), THROTTLED)
          || switch (e.getStatusCode().getCode()) {
            case RESOURCE_EXHAUSTED, UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED, UNKNOWN -> true;
            default -> false;
          };
    }
    return false;
  }

  static String result(ApiException e) {
    if (mentions(details(e), THROTTLED)
        || e.getStatusCode().getCode() == StatusCode.Code.RESOURCE_EXHAUSTED) {
      return "throttled";
    }
    return switch (e.getStatusCode().getCode()) {
      case NOT_FOUND -> "not_found";
      case ABORTED -> "conflict";
      case PERMISSION_DENIED -> mentions(details(e), QUOTA) ? "quota" : "denied";
      default -> "error";
    };
  }

  /** Compute's answer as the SPI's failure. */
  static ProviderException translate(String operation, ApiException e) {
    String message = operation + ": " + reason(e);
    if (mentions(details(e), THROTTLED)
        || e.getStatusCode().getCode() == StatusCode.Code.RESOURCE_EXHAUSTED) {
      return new ProviderException.Throttled(message, Duration.ofSeconds(10), e);
    }
    if (mentions(details(e), QUOTA)) {
      return quota(message, e);
    }
    if (e.getStatusCode().getCode() == StatusCode.Code.PERMISSION_DENIED) {
      return new ProviderException.Transient(
          "Ferry's Google identity may not call compute "
              + operation
              + "; grant it roles/compute.loadBalancerAdmin and roles/compute.securityAdmin"
              + " (see docs/providers/gcp.md) - "
              + reason(e),
          e);
    }
    return new ProviderException.Transient(message, e);
  }

  /** The status and the error body's message, on one line. */
  static String reason(ApiException e) {
    String body = details(e.getCause() == null ? e : e.getCause());
    Matcher m = MESSAGE.matcher(body);
    Matcher r = REASON.matcher(body);
    String reason = r.find() ? r.group(1) + ": " : "";
    return e.getStatusCode().getCode() + " " + reason + (m.find() ? m.group(1) : e.getMessage());
  }

  /**
   * An operation that ended with an error: Compute's HTTP status for it ({@code
   * httpErrorStatusCode}) and its error codes, kept as the cause of the {@link ProviderException}.
   */
  static final class OperationFailed extends RuntimeException {
    final int httpStatus;
    final List<String> codes;

    OperationFailed(String message, int httpStatus, List<String> codes) {
      super(message);
      this.httpStatus = httpStatus;
      this.codes = codes;
    }
  }

  /**
   * Whether Compute refused the request for what it asked (HTTP 400, 404, 409 or 412 answered at
   * once or inside the operation), not for throttling, quota, permission or its own trouble; with
   * {@code codes}, only for one of those reasons or error codes.
   */
  static boolean refusedAs(ProviderException e, String... codes) {
    int status;
    String text;
    if (e.getCause() instanceof OperationFailed f) {
      status = f.httpStatus;
      text = String.join(" ", f.codes);
    } else if (e.getCause() instanceof ApiException a) {
      status = a.getStatusCode().getCode().getHttpStatusCode();
      text = details(a);
    } else {
      return false;
    }
    if (e instanceof ProviderException.Throttled || e instanceof ProviderException.QuotaExceeded) {
      return false;
    }
    boolean client = status == 400 || status == 404 || status == 409 || status == 412;
    return client && (codes.length == 0 || mentions(text, List.of(codes)));
  }

  static ProviderException failed(String operation, Operation op) {
    List<Errors> errors = op.getError().getErrorsList();
    String codes = errors.stream().map(Errors::getCode).collect(Collectors.joining(", "));
    String message =
        operation
            + ": operation "
            + op.getName()
            + " failed: "
            + errors.stream()
                .map(x -> x.getCode() + ": " + x.getMessage())
                .collect(Collectors.joining("; "));
    if (mentions(codes, QUOTA)) {
      return quota(message, null);
    }
    if (mentions(codes, THROTTLED)) {
      return new ProviderException.Throttled(message, Duration.ofSeconds(10), null);
    }
    return new ProviderException.Transient(
        message,
        new OperationFailed(
            message, op.getHttpErrorStatusCode(), errors.stream().map(Errors::getCode).toList()));
  }

  private static ProviderException quota(String message, Throwable cause) {
    return new ProviderException.QuotaExceeded(
        "a Compute Engine quota is spent ("
            + message
            + "); raise it in the Google Cloud console (IAM & Admin > Quotas), or free resources",
        cause);
  }

  /**
   * Compute's answer as text: the client's exception says only the HTTP status ("Bad Request"); the
   * error body with its reason is in its cause.
   */
  static String details(Throwable e) {
    StringBuilder out = new StringBuilder();
    for (Throwable t = e; t != null && out.length() < 4000; t = t.getCause()) {
      out.append(t.getMessage()).append(' ');
    }
    return out.toString();
  }

  static boolean mentions(String text, List<String> words) {
    if (text == null) {
      return false;
    }
    String lower = text.toLowerCase(Locale.ROOT);
    return words.stream().anyMatch(w -> lower.contains(w.toLowerCase(Locale.ROOT)));
  }
}
