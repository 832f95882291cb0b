namespace Totoro.Kernel;

/// <summary>Creation, stop, restart and supervision of a cell, driven by system messages.</summary>
internal sealed partial class ActorCell
{
    private void ProcessSystemMessage(SystemMessage message)
    {
        try
        {
            switch (message)
            {
                case Create:
                    CreateActor();
                    break;
                case Terminate:
                    BeginTerminate();
                    break;
                case ChildTerminated childTerminated:
                    OnChildTerminated(childTerminated.Child);
                    break;
                case Failed failed:
                    OnChildFailed(failed.Child, failed.Cause);
                    break;
                case Resume:
                    OnResume();
                    break;
                case Recreate recreate:
                    BeginRecreate(recreate.Cause);
                    break;
                case WatchRequest watch:
                    OnWatchRequest(watch);
                    break;
                case UnwatchRequest unwatch:
                    OnUnwatchRequest(unwatch);
                    break;
                case DeathWatchNotification notification:
                    OnDeathWatchNotification(notification);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown system message {message.GetType().Name}");
            }
        }
        catch (Exception exception)
        {
            HandleFailure(exception);
        }
    }

    private void CreateActor()
    {
        if (Has(CellFlags.Terminating) || Has(CellFlags.Terminated))
        {
            return;
        }
        try
        {
            var actor = _props.Factory();
            actor.Attach(this);
            _actor = actor;
            actor.InvokePreStart();
            Set(CellFlags.Started);
        }
        catch (Exception exception)
        {
            throw new ActorInitializationException($"{_path}: creating the actor failed", exception);
        }
    }

    /// <summary>The actor failed: stop taking user messages and let the parent decide.</summary>
    private void HandleFailure(Exception exception)
    {
        if (Has(CellFlags.Terminated))
        {
            KernelLog.StoppedActorFailed(_system.Logger, _path, exception);
            _system.EventStream.Publish(new ActorFailure(this, exception, Directive.Stop));
            return;
        }
        Set(CellFlags.Failed);
        Extras.FailedMessage = _currentMessage;
        if (_parent is null)
        {
            KernelLog.RootFailed(_system.Logger, _path, exception);
            Clear(CellFlags.Failed);
            return;
        }
        _parent.SendSystemMessage(new Failed(this, exception));
    }

    private void OnResume()
    {
        Clear(CellFlags.Failed);
        if (_extras?.Perpetrator is { } perpetrator)
        {
            _extras.Perpetrator = null;
            perpetrator.SendSystemMessage(new Resume());
        }
    }

    private void OnChildFailed(InternalActorRef child, Exception cause)
    {
        if (child is not ActorCell cell || !IsMyChild(cell))
        {
            return;
        }
        var strategy = _props.SupervisorStrategy ?? (IsGuardian ? _system.GuardianStrategy : SupervisorStrategy.Default);
        var directive = strategy.Decider(cause);
        if (directive == Directive.Escalate && IsGuardian)
        {
            directive = Directive.Stop;
        }
        var restartNumber = 0;
        if (directive == Directive.Restart)
        {
            var stats = (Extras.ChildStats ??= [])
                .TryGetValue(cell, out var existing) ? existing : Extras.ChildStats[cell] = new RestartStatistics();
            restartNumber = stats.Record(strategy, _system.Time.GetUtcNow().UtcTicks);
            if (restartNumber == 0)
            {
                directive = Directive.Stop;
            }
        }
        KernelLog.ChildFailed(_system.Logger, cell.Path, directive, cause);
        _system.EventStream.Publish(new ActorFailure(cell, cause, directive));
        switch (directive)
        {
            case Directive.Resume:
                cell.SendSystemMessage(new Resume());
                break;
            case Directive.Restart:
                var delay = strategy.BackoffFor(restartNumber);
                if (delay > TimeSpan.Zero)
                {
                    _system.KernelScheduler.ScheduleSystemMessage(delay, cell, new Recreate(cause));
                }
                else
                {
                    cell.SendSystemMessage(new Recreate(cause));
                }
                break;
            case Directive.Stop:
                cell.SendSystemMessage(new Terminate());
                break;
            case Directive.Escalate:
                Extras.Perpetrator = cell;
                HandleFailure(cause);
                break;
        }
    }

    private void BeginRecreate(Exception cause)
    {
        if (Has(CellFlags.Terminating) || Has(CellFlags.Terminated))
        {
            return;
        }
        Set(CellFlags.RecreatePending);
        _timers?.CancelAll();
        var failedActor = _actor;
        var failedMessage = _extras?.FailedMessage;
        Extras.FailedMessage = null;
        _actor = null;
        if (failedActor is not null && Has(CellFlags.Started))
        {
            failedActor.InvokePreRestart(cause, failedMessage);
        }
        Extras.RecreateCause = cause;
        if (ChildCount == 0)
        {
            FinishRecreate();
        }
    }

    private void FinishRecreate()
    {
        var cause = _extras!.RecreateCause!;
        _extras.RecreateCause = null;
        Clear(CellFlags.RecreatePending | CellFlags.Failed | CellFlags.Started);
        _extras.Stash?.UnstashAll();
        try
        {
            var actor = _props.Factory();
            actor.Attach(this);
            _actor = actor;
            actor.InvokePostRestart(cause);
            Set(CellFlags.Started);
        }
        catch (Exception exception)
        {
            throw new ActorInitializationException($"{_path}: recreating the actor failed", exception);
        }
    }

    private void BeginTerminate()
    {
        if (Has(CellFlags.Terminating) || Has(CellFlags.Terminated))
        {
            return;
        }
        Set(CellFlags.Terminating);
        _timers?.CancelAll();
        foreach (var child in SnapshotChildren())
        {
            child.SendSystemMessage(new Terminate());
        }
        if (ChildCount == 0)
        {
            FinishTerminate();
        }
    }

    private void FinishTerminate()
    {
        var actor = _actor;
        _actor = null;
        try
        {
            if (actor is not null && Has(CellFlags.Started))
            {
                actor.InvokePostStop();
            }
        }
        finally
        {
            SetTerminatedFlag();
            _extras?.Stash?.DropAll();
            DrainToDeadLetters();
            NotifyWatchersAndUnwatch();
            KernelLog.ActorStopped(_system.Logger, _path);
            if (_parent is not null)
            {
                _parent.SendSystemMessage(new ChildTerminated(this));
            }
            else
            {
                _system.OnRootTerminated();
            }
        }
    }

    private void OnChildTerminated(InternalActorRef child)
    {
        if (child is ActorCell cell)
        {
            RemoveChild(cell);
            _extras?.ChildStats?.Remove(cell);
        }
        if (ChildCount != 0)
        {
            return;
        }
        if (Has(CellFlags.Terminating) && !Has(CellFlags.Terminated))
        {
            FinishTerminate();
        }
        else if (Has(CellFlags.RecreatePending) && _extras?.RecreateCause is not null)
        {
            FinishRecreate();
        }
    }
}
