import "reflect-metadata";
import type {
  KallimaEvent as CoreKallimaEvent,
  KallimaEventType,
  VerifiedKallimaEvent,
} from "@kallima/webhooks";
import { createParamDecorator, type ExecutionContext } from "@nestjs/common";
import { KALLIMA_EVENT_PROPERTY, ON_KALLIMA_EVENT_METADATA } from "./constants.js";
import { KallimaNestError } from "./errors.js";
import type { NestWebhookContext, NestWebhookRequest } from "./request.js";

/**
 * Runs the decorated method for every verified delivery of these event types that reaches the
 * module's webhook route. Works on any provider; the module finds them at start-up. Several
 * methods for one type all run, in discovery order; a method that throws makes the delivery
 * answer 500, so Kallima retries it. The method's first parameter is typed by the event types;
 * the second, if it takes one, is the {@link NestWebhookContext} (`{ request, executionContext }`).
 *
 * @example
 * ```ts
 * @Injectable()
 * export class JobsService {
 *   @OnKallimaEvent("job.completed")
 *   async onCompleted(event: KallimaEvent<"job.completed">, { request }: NestWebhookContext) {
 *     await this.results.fetch(event.data.id, request.headers["x-request-id"]);
 *   }
 * }
 * ```
 */
export function OnKallimaEvent<TType extends KallimaEventType>(
  type: TType,
  ...moreTypes: TType[]
): <TMethod extends (event: CoreKallimaEvent<TType>, context: NestWebhookContext) => unknown>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<TMethod>,
) => void {
  const types: string[] = [type, ...moreTypes];
  return (target, propertyKey, descriptor) => {
    if (typeof descriptor.value !== "function") {
      throw new KallimaNestError(
        "invalid_decorator",
        `@OnKallimaEvent() decorates methods; ${String(propertyKey)} is not one.`,
      );
    }
    // Several decorators on one method add up, and a subclass keeps its parent's.
    const existing: unknown = Reflect.getOwnMetadata(
      ON_KALLIMA_EVENT_METADATA,
      target,
      propertyKey,
    );
    const list = Array.isArray(existing) ? (existing as string[]) : [];
    Reflect.defineMetadata(ON_KALLIMA_EVENT_METADATA, [...list, ...types], target, propertyKey);
  };
}

/** The event types `@OnKallimaEvent()` recorded on a method, if any. */
export function onKallimaEventTypes(target: object, propertyKey: string): string[] {
  const types: unknown = Reflect.getMetadata(ON_KALLIMA_EVENT_METADATA, target, propertyKey);
  return Array.isArray(types) ? (types as string[]) : [];
}

const kallimaEventParam = createParamDecorator(
  (_data: unknown, context: ExecutionContext): VerifiedKallimaEvent => {
    const event = context.switchToHttp().getRequest<NestWebhookRequest>()[KALLIMA_EVENT_PROPERTY];
    if (!event) {
      throw new KallimaNestError(
        "event_unavailable",
        "@KallimaEvent() found no verified event on the request: guard the route with @UseGuards(KallimaWebhookGuard).",
      );
    }
    return event;
  },
);

/**
 * Parameter decorator: the verified event, in a controller method guarded by
 * `KallimaWebhookGuard`. `KallimaEvent<"job.completed">` is also the type of such an event.
 *
 * @example
 * ```ts
 * @Post("kallima")
 * @UseGuards(KallimaWebhookGuard)
 * receive(@KallimaEvent() event: VerifiedKallimaEvent) {
 *   if (isEventType(event, "job.completed")) console.log(event.data.id);
 *   return { received: true };
 * }
 * ```
 */
export function KallimaEvent(): ParameterDecorator {
  return kallimaEventParam();
}

/**
 * A verified event of a known type (the same type as `KallimaEvent` in `@kallima/webhooks`), so
 * that one import gives both the decorator and the type.
 *
 * @example
 * ```ts
 * @OnKallimaEvent("job.failed")
 * onFailed(event: KallimaEvent<"job.failed">) { console.error(getFailureReason(event.data).message); }
 * ```
 */
export type KallimaEvent<TType extends KallimaEventType = KallimaEventType> =
  CoreKallimaEvent<TType>;
