/*
 * redelivery: see redelivery.h.
 */
#include "redelivery.h"

#include <stdlib.h>
#include <string.h>

void redelivery_filter_clear(RedeliveryFilter *filter)
{
    free(filter->business_type);
    free(filter->receiver);
    free(filter->url_prefix);
    free(filter->error_class);
    memset(filter, 0, sizeof *filter);
}

void redelivery_job_clear(RedeliveryJob *job)
{
    redelivery_filter_clear(&job->filter);
    free(job->reason);
    free(job->actor);
    free(job->cancelled_by);
    memset(job, 0, sizeof *job);
}
