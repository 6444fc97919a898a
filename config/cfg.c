/* cfg.c - the configuration's errors, look-ups and release. */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "xmalloc.h"

void
cfg_error(struct cfg *cfg, unsigned line, const char *fmt, ...)
{
	struct cfg_error *e;
	char *message;
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	xvasprintf(&message, fmt, ap);
	va_end(ap);
	for (i = 0; i < cfg->nerrors; i++) {
		if (cfg->errors[i].line == line &&
		    strcmp(cfg->errors[i].message, message) == 0) {
			free(message); /* libxml2 may say it more than once */
			return;
		}
	}
	cfg->errors =
	    xreallocarray(cfg->errors, cfg->nerrors + 1, sizeof *cfg->errors);
	e = &cfg->errors[cfg->nerrors++];
	e->line = line;
	e->message = message;
}

static int
cfg_error_cmp(const void *a, const void *b)
{
	const struct cfg_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Puts the errors in the order of their lines. */
void
cfg_sort_errors(struct cfg *cfg)
{
	qsort(cfg->errors, cfg->nerrors, sizeof *cfg->errors, cfg_error_cmp);
}

void
cfg_print_errors(struct cfg *cfg, FILE *f)
{
	size_t i;

	cfg_sort_errors(cfg);
	for (i = 0; i < cfg->nerrors; i++) {
		if (cfg->errors[i].line == 0)
			fprintf(f, "%s: %s\n", cfg->file,
			    cfg->errors[i].message);
		else
			fprintf(f, "%s:%u: %s\n", cfg->file,
			    cfg->errors[i].line, cfg->errors[i].message);
	}
}

const struct cfg_watch *
cfg_find_watch(const struct cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < cfg->nwatches; i++) {
		if (cfg->watches[i].name != NULL &&
		    strcmp(cfg->watches[i].name, name) == 0)
			return &cfg->watches[i];
	}
	return NULL;
}

const struct cfg_store *
cfg_find_store(const struct cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < cfg->nstores; i++) {
		if (cfg->stores[i].name != NULL &&
		    strcmp(cfg->stores[i].name, name) == 0)
			return &cfg->stores[i];
	}
	return NULL;
}

const struct cfg_broker *
cfg_find_broker(const struct cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < cfg->nbrokers; i++) {
		if (cfg->brokers[i].name != NULL &&
		    strcmp(cfg->brokers[i].name, name) == 0)
			return &cfg->brokers[i];
	}
	return NULL;
}

/* Frees a key or a token, wiped first. */
static void
cfg_free_secret(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* Frees what a store holds (not the store itself), wiping its keys. */
void
cfg_store_clear(struct cfg_store *s)
{
	char **secret[] = { &s->access_key, &s->secret_key, &s->token };
	size_t i;

	for (i = 0; i < sizeof secret / sizeof secret[0]; i++)
		cfg_free_secret(*secret[i]);
	free(s->name);
	free(s->endpoint);
	free(s->region);
	free(s->ca_file);
	memset(s, 0, sizeof *s);
}

/* Frees a NULL-terminated list of words. */
void
cfg_free_words(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void
cfg_free_trigger(struct cfg_trigger *t)
{
	size_t i;

	free(t->name);
	free(t->watch);
	cfg_free_words(t->match);
	free(t->plugin);
	for (i = 0; i < t->nparams; i++) {
		free(t->params[i].name);
		free(t->params[i].value);
	}
	free(t->params);
	for (i = 0; i < t->noutputs; i++) {
		free(t->outputs[i].path);
		free(t->outputs[i].store);
		free(t->outputs[i].bucket);
		free(t->outputs[i].key);
		free(t->outputs[i].content_type);
	}
	free(t->outputs);
}

void
cfg_free(struct cfg *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nwatches; i++) {
		free(cfg->watches[i].name);
		free(cfg->watches[i].path);
		cfg_free_words(cfg->watches[i].ignore);
		free(cfg->watches[i].store);
		free(cfg->watches[i].bucket);
		free(cfg->watches[i].prefix);
		cfg_free_secret(cfg->watches[i].token);
		free(cfg->watches[i].broker);
		free(cfg->watches[i].queue);
		cfg_free_words(cfg->watches[i].bind);
		free(cfg->watches[i].publish);
	}
	free(cfg->watches);
	free(cfg->http.listen);
	free(cfg->http.cert_file);
	free(cfg->http.key_file);
	for (i = 0; i < cfg->nstores; i++)
		cfg_store_clear(&cfg->stores[i]);
	free(cfg->stores);
	for (i = 0; i < cfg->nbrokers; i++) {
		free(cfg->brokers[i].name);
		free(cfg->brokers[i].url);
		free(cfg->brokers[i].host);
		free(cfg->brokers[i].vhost);
		free(cfg->brokers[i].user);
		cfg_free_secret(cfg->brokers[i].password);
		free(cfg->brokers[i].exchange);
	}
	free(cfg->brokers);
	for (i = 0; i < cfg->ntriggers; i++)
		cfg_free_trigger(&cfg->triggers[i]);
	free(cfg->triggers);
	for (i = 0; i < cfg->nerrors; i++)
		free(cfg->errors[i].message);
	free(cfg->errors);
	free(cfg->state);
	free(cfg->file);
	free(cfg);
}
