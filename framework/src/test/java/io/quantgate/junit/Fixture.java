package io.quantgate.junit;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class that exists to be run by a test through EngineTestKit or a launcher (which set
 * {@value #PARAMETER}); run directly (an IDE, or a surefire -Dtest pattern that matches nested classes) it is
 * skipped, since some fixtures fail on purpose.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(Fixture.Condition.class)
public @interface Fixture {
    String PARAMETER = "quantgate.test.fixtures";

    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return context.getConfigurationParameter(PARAMETER).filter("true"::equals).isPresent()
                    ? ConditionEvaluationResult.enabled("run as a fixture")
                    : ConditionEvaluationResult.disabled("a fixture of another test; runs only through it");
        }
    }
}
