# mediator
