// The review task of a payment arrangement outside the bounds (M5) in the inbox: the proposal
// with its plan, and the decision (accept, perhaps adjusted, or decline) that completes the task.
import { useEffect, useState } from "react";
import { ApiError } from "../api";
import { useT } from "../i18n";
import { ArrangementView } from "../subjects/PortalActivity";
import { debtorPlans, type Arrangement } from "./api";
import { ArrangementDecision } from "./ArrangementDecision";

/** A task of the review: a debtor's, with the outcomes the decision completes it with. */
export function isReviewTask(task: { subject?: { type: string }; outcomes: (string | { port: string })[] }): boolean {
  const ports = new Set(task.outcomes.map((o) => (typeof o === "string" ? o : o.port)));
  return task.subject?.type === "debtor" && ports.has("agreed") && ports.has("declined");
}

export function ReviewTask({ subjectId, onFound, onDecided }: { subjectId: string; onFound: (inReview: boolean) => void; onDecided: (message: string) => void }) {
  const { t } = useT();
  const [review, setReview] = useState<Arrangement | null | undefined>(undefined);
  const [error, setError] = useState("");

  useEffect(() => {
    let live = true;
    setReview(undefined);
    debtorPlans(subjectId).then(
      (plans) => {
        if (!live) return;
        const found = plans.arrangements.find((a) => a.status === "review") ?? null;
        setReview(found);
        onFound(found !== null);
      },
      (e) => live && setError(e instanceof ApiError ? e.detail : String(e)),
    );
    return () => { live = false; };
  }, [subjectId]); // eslint-disable-line react-hooks/exhaustive-deps

  if (error) return <div className="card"><div className="error-box" role="alert">{error}</div></div>;
  if (review === undefined) return null;
  return (
    <div className="card" data-testid="review-task">
      <h3>{t("arUnderReview")}</h3>
      {review ? (
        <>
          <ArrangementView arrangement={review} />
          <ArrangementDecision arrangement={review} onDecided={(_a, message) => onDecided(message)} />
        </>
      ) : (
        <div className="muted">{t("arNoneInReview")}</div>
      )}
    </div>
  );
}
